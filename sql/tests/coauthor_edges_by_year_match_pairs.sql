-- Rule: a pair's yearly edges add up to its shared dated papers in
-- coauthor_pairs, and fall between its first and last year. Checks the
-- pairs of the authors in scope_coauthor_edges_by_year (every author in a full build).
with scoped_papers as (
    select distinct paper_id from paper_authors
    where author_id in (select author_id from scope_coauthor_edges_by_year)
),
scoped_authors as (
    select * from paper_authors where paper_id in (select paper_id from scoped_papers)
),
dated_shared as (
    select pa.author_id as author_id_a, pb.author_id as author_id_b, count(*) as n
    from scoped_authors pa
    join scoped_authors pb on pa.paper_id = pb.paper_id and pa.author_id < pb.author_id
    join papers p on p.paper_id = pa.paper_id
    where p.year is not null
      and (pa.author_id in (select author_id from scope_coauthor_edges_by_year)
           or pb.author_id in (select author_id from scope_coauthor_edges_by_year))
    group by pa.author_id, pb.author_id
),
by_year as (
    select author_id_a, author_id_b, sum(n_papers) as n, min(year) as y0, max(year) as y1
    from coauthor_edges_by_year
    where author_id_a in (select author_id from scope_coauthor_edges_by_year)
       or author_id_b in (select author_id from scope_coauthor_edges_by_year)
    group by author_id_a, author_id_b
)
select coalesce(d.author_id_a, b.author_id_a) as author_id_a,
       coalesce(d.author_id_b, b.author_id_b) as author_id_b,
       d.n as expected, b.n as summed
from dated_shared d
full outer join by_year b using (author_id_a, author_id_b)
where d.n is distinct from b.n
union all
select b.author_id_a, b.author_id_b, c.first_year, b.y0
from by_year b
join coauthor_pairs c using (author_id_a, author_id_b)
where b.y0 <> c.first_year or b.y1 <> c.last_year;
