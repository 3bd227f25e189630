-- Rule: author_summary and author_topics agree with paper_authors and
-- paper_topics: paper counts, year range, and top_topic is one of the
-- author's most frequent topics. Checks each view for the authors in its
-- scope (scope_<view>: every author in a full build; in an incremental one,
-- those the change touched).
with summary as (
    select * from author_summary
    where author_id in (select author_id from scope_author_summary)
),
topics as (
    select * from author_topics
    where author_id in (select author_id from scope_author_topics)
),
expected as (
    select pa.author_id, count(distinct pa.paper_id) as n_papers,
           min(p.year) as first_year, max(p.year) as last_year
    from paper_authors pa join papers p using (paper_id)
    where pa.author_id in (select author_id from scope_author_summary)
    group by pa.author_id
),
summary_topics as (
    select * from author_topics
    where author_id in (select author_id from scope_author_summary)
),
topic_max as (
    select author_id, max(n_papers) as n from summary_topics group by author_id
)
select 'author_summary' as problem, s.author_id, s.n_papers, e.n_papers as expected
from summary s left join expected e using (author_id)
where s.n_papers <> coalesce(e.n_papers, 0)
   or s.first_year is distinct from e.first_year
   or s.last_year is distinct from e.last_year
union all
select 'authors missing', a.author_id, null, null
from authors a left join summary s using (author_id)
where s.author_id is null and a.author_id in (select author_id from scope_author_summary)
union all
select 'top_topic', s.author_id, t.n_papers, m.n
from summary s
join topic_max m using (author_id)
left join summary_topics t on t.author_id = s.author_id and t.topic = s.top_topic
where t.n_papers is distinct from m.n
union all
select 'author_topics', atp.author_id, atp.n_papers, count(distinct pt.paper_id)
from topics atp
join paper_authors pa using (author_id)
join paper_topics pt on pt.paper_id = pa.paper_id and pt.topic = atp.topic
group by atp.author_id, atp.topic, atp.n_papers
having atp.n_papers <> count(distinct pt.paper_id);
