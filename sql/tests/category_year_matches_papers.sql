-- Rule: category_year counts agree with papers: per category and year the
-- papers printed with it; shares of a year add up to 1 when it has
-- categorised papers; the grid holds every printed category for every year.
with expected as (
    select c.category_id, p.year, count(*) as n
    from papers p join categories c on c.category_code = p.category
    where p.year is not null
    group by c.category_id, p.year
)
select 'count' as problem, coalesce(e.category_id, y.category_id) as category_id,
       coalesce(e.year, y.year) as year, e.n as expected, y.n_papers
from expected e
full outer join (select * from category_year where n_papers > 0) y using (category_id, year)
where e.n is distinct from y.n_papers
union all
select 'shares', null, year, null, null
from category_year
group by year
having max(n_categorised_papers) > 0 and abs(sum(share_of_year) - 1) > 1e-9
union all
select 'grid', null, null, null, count(*)
from category_year
having count(*) <> (select count(distinct c.category_id) from papers p
                    join categories c on c.category_code = p.category)
                  * (select count(*) from papers_by_year);
