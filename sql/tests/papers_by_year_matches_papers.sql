-- Rule: papers_by_year covers every year from the first to the last dated
-- paper without gaps, its papers add up to the dated papers, and every
-- author with a dated paper is new in exactly one year.
select 'years' as problem, count(*) as got, max(year) - min(year) + 1 as expected
from papers_by_year
having count(*) <> coalesce(max(year) - min(year) + 1, 0)
    or min(year) is distinct from (select min(year) from papers)
    or max(year) is distinct from (select max(year) from papers)
union all
select 'papers', (select sum(n_papers) from papers_by_year),
       (select count(*) from papers where year is not null)
where (select coalesce(sum(n_papers), 0) from papers_by_year)
   <> (select count(*) from papers where year is not null)
union all
select 'new authors', (select sum(n_new_authors) from papers_by_year),
       (select count(distinct pa.author_id) from paper_authors pa
        join papers p using (paper_id) where p.year is not null)
where (select coalesce(sum(n_new_authors), 0) from papers_by_year)
   <> (select count(distinct pa.author_id) from paper_authors pa
       join papers p using (paper_id) where p.year is not null)
union all
select 'per year', y.n_papers, count(p.paper_id)
from papers_by_year y left join papers p using (year)
group by y.year, y.n_papers
having y.n_papers <> count(p.paper_id);
