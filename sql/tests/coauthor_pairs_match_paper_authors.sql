-- Rule: each coauthor_pairs row matches the papers the two authors share in
-- paper_authors (count, fractional weight, years), and every pair sharing a
-- paper has a row. Checks the pairs of the authors in scope_coauthor_pairs (every
-- author in a full build): their shared papers are all among their papers.
with scoped_papers as (
    select distinct paper_id from paper_authors
    where author_id in (select author_id from scope_coauthor_pairs)
),
printed as (
    select paper_id, author_id, count(*) over (partition by paper_id) as n
    from paper_authors
    where paper_id in (select paper_id from scoped_papers)
),
expected as (
    select a.author_id as author_id_a, b.author_id as author_id_b,
           count(*) as n_papers,
           sum(1.0::double / (a.n - 1)) as fractional_weight,
           min(p.year) as first_year, max(p.year) as last_year
    from printed a
    join printed b on a.paper_id = b.paper_id and a.author_id < b.author_id
    join papers p on p.paper_id = a.paper_id
    where a.author_id in (select author_id from scope_coauthor_pairs)
       or b.author_id in (select author_id from scope_coauthor_pairs)
    group by a.author_id, b.author_id
),
stored as (
    select * from coauthor_pairs
    where author_id_a in (select author_id from scope_coauthor_pairs)
       or author_id_b in (select author_id from scope_coauthor_pairs)
)
select coalesce(e.author_id_a, c.author_id_a) as author_id_a,
       coalesce(e.author_id_b, c.author_id_b) as author_id_b,
       e.n_papers as expected_n_papers, c.n_papers
from expected e
full outer join stored c using (author_id_a, author_id_b)
where e.author_id_a is null or c.author_id_a is null
   or e.n_papers <> c.n_papers
   or abs(e.fractional_weight - c.fractional_weight) > 1e-9
   or e.first_year is distinct from c.first_year
   or e.last_year is distinct from c.last_year;
