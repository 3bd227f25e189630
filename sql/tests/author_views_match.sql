-- Rule: author_activity and author_topics agree with paper_authors and
-- paper_topics: paper counts, year range, and top_topic is one of the
-- author's most frequent topics; author_summary is each author's
-- author_activity row beside their author_network row, once per author.
-- Checks each stored view for the authors in its scope (scope_<view>: every
-- author in a full build; in an incremental one, those the change touched).
-- author_summary keeps no rows (Materialized: no) and has no scope of its
-- own: it is checked for every author, a join of two relations of one row
-- per author (its network columns move for most authors on every change).
with activity as (
    select * from author_activity
    where author_id in (select author_id from scope_author_activity)
),
topics as (
    select * from author_topics
    where author_id in (select author_id from scope_author_topics)
),
expected as (
    select pa.author_id, count(distinct pa.paper_id) as n_papers,
           min(p.year) as first_year, max(p.year) as last_year
    from paper_authors pa join papers p using (paper_id)
    where pa.author_id in (select author_id from scope_author_activity)
    group by pa.author_id
),
activity_topics as (
    select * from author_topics
    where author_id in (select author_id from scope_author_activity)
),
topic_max as (
    select author_id, max(n_papers) as n from activity_topics group by author_id
)
select 'author_activity' as problem, s.author_id, s.n_papers, e.n_papers as expected
from activity s left join expected e using (author_id)
where s.n_papers <> coalesce(e.n_papers, 0)
   or s.first_year is distinct from e.first_year
   or s.last_year is distinct from e.last_year
union all
select 'authors missing', a.author_id, null, null
from authors a left join activity s using (author_id)
where s.author_id is null and a.author_id in (select author_id from scope_author_activity)
union all
select 'top_topic', s.author_id, t.n_papers, m.n
from activity s
join topic_max m using (author_id)
left join activity_topics t on t.author_id = s.author_id and t.topic = s.top_topic
where t.n_papers is distinct from m.n
union all
select 'author_topics', atp.author_id, atp.n_papers, count(distinct pt.paper_id)
from topics atp
join paper_authors pa using (author_id)
join paper_topics pt on pt.paper_id = pa.paper_id and pt.topic = atp.topic
group by atp.author_id, atp.topic, atp.n_papers
having atp.n_papers <> count(distinct pt.paper_id)
union all
select 'author_summary', coalesce(s.author_id, a.author_id), s.n_papers, a.n_papers
from author_summary s
full join author_activity a on a.author_id = s.author_id
left join author_network n on n.author_id = coalesce(s.author_id, a.author_id)
where s.author_id is null or a.author_id is null
   or (s.name, s.n_papers, s.n_dated_papers, s.first_year, s.last_year, s.top_category_id,
       s.top_category_name, s.top_topic, s.n_papers_truncated)
      is distinct from
      (a.name, a.n_papers, a.n_dated_papers, a.first_year, a.last_year, a.top_category_id,
       a.top_category_name, a.top_topic, a.n_papers_truncated)
   or (s.n_coauthors, s.coauthor_strength, s.component_id, s.community_id)
      is distinct from (coalesce(n.degree, 0), n.weighted_degree, n.component_id, n.community_id);
