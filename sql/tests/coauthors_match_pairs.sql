-- Rule: coauthors is coauthor_pairs in both directions: per author, as many
-- rows, papers, weight and years as the pairs naming them, under the names
-- of authors. Checks the authors in scope_coauthor_pairs (every author in a
-- full build; in an incremental one, those the change touched). Aggregates,
-- not a row-by-row difference: coauthors is a view over coauthor_pairs, so
-- this checks its SQL, and a sum per author costs a fraction of a diff.
with pairs as (
    select * from coauthor_pairs
    where author_id_a in (select author_id from scope_coauthor_pairs)
       or author_id_b in (select author_id from scope_coauthor_pairs)
),
both_ways as (
    select author_id_a as author_id, name_a as name, author_id_b as coauthor_id,
           n_papers, fractional_weight, first_year, last_year, n_papers_truncated
    from pairs
    union all
    select author_id_b, name_b, author_id_a,
           n_papers, fractional_weight, first_year, last_year, n_papers_truncated
    from pairs
),
sides as (
    select 'expected' as side, author_id, coauthor_id, n_papers, fractional_weight,
           first_year, last_year, n_papers_truncated
    from both_ways
    union all
    select 'listed', author_id, coauthor_id, n_papers, fractional_weight,
           first_year, last_year, n_papers_truncated
    from coauthors
),
sums as (
    select side, author_id, count(*) as n, sum(n_papers) as papers,
           sum(fractional_weight) as weight, min(first_year) as y0, max(last_year) as y1,
           sum(n_papers_truncated) as truncated, sum(hash(coauthor_id)) as ids
    from sides
    where author_id in (select author_id from scope_coauthor_pairs)
    group by side, author_id
),
expected as (select * from sums where side = 'expected'),
listed as (select * from sums where side = 'listed')
select 'figures differ' as problem, coalesce(e.author_id, l.author_id) as author_id
from expected e
full outer join listed l using (author_id)
where e.n is distinct from l.n
   or e.papers is distinct from l.papers
   or abs(e.weight - l.weight) > 1e-9
   or e.y0 is distinct from l.y0
   or e.y1 is distinct from l.y1
   or e.truncated is distinct from l.truncated
   or e.ids is distinct from l.ids
union all
select 'names differ', c.author_id
from coauthors c
join authors a using (author_id)
join authors b on b.author_id = c.coauthor_id
where c.author_id in (select author_id from scope_coauthor_pairs)
  and (c.name is distinct from a.name or c.coauthor_name is distinct from b.name);
