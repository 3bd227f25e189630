-- Rule: topic_year counts agree with paper_topics: per topic, the sum over
-- years equals the distinct (paper, topic) pairs of dated papers; the grid
-- holds every topic for every year of papers_by_year.
with expected as (
    select pt.topic, p.year, count(distinct pt.paper_id) as n
    from paper_topics pt join papers p using (paper_id)
    where p.year is not null
    group by pt.topic, p.year
)
select 'count' as problem, coalesce(e.topic, t.topic) as topic, coalesce(e.year, t.year) as year,
       e.n as expected, t.n_papers
from expected e
full outer join (select * from topic_year where n_papers > 0) t using (topic, year)
where e.n is distinct from t.n_papers
union all
select 'total', null, null,
       (select count(*) from (select distinct pt.paper_id, pt.topic from paper_topics pt
                              join papers p using (paper_id) where p.year is not null)),
       (select sum(n_papers) from topic_year)
where (select count(*) from (select distinct pt.paper_id, pt.topic from paper_topics pt
                             join papers p using (paper_id) where p.year is not null))
   <> (select coalesce(sum(n_papers), 0) from topic_year)
union all
select 'grid', null, null, (select count(*) from topics) * (select count(*) from papers_by_year),
       count(*)
from topic_year
having count(*) <> (select count(*) from topics) * (select count(*) from papers_by_year)
union all
select 'share', topic, year, null, n_papers
from topic_year
where share_of_year < 0 or share_of_year > 1 or n_papers > n_year_papers;
