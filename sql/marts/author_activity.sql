-- author_activity: one row per author: output, active years and what they
-- work on, from their own papers alone. Key: author_id.
-- Reads: authors, paper_authors, papers, categories, paper_topics.
-- Incremental: author_id (a row reads only its author's papers).
-- The network columns of author_summary are not here: the co-author
-- network's communities are renumbered over the whole graph, so a change
-- moves them for most authors; author_summary joins them on when read.
create or replace view author_activity as
with authored as (
    select pa.author_id, p.paper_id, p.year, p.category, p.authors_truncated
    from paper_authors pa
    join papers p using (paper_id)
),
base as (
    select
        author_id,
        count(distinct paper_id) as n_papers,
        count(distinct paper_id) filter (where year is not null) as n_dated_papers,
        count(distinct paper_id) filter (where authors_truncated) as n_papers_truncated,
        min(year) as first_year,
        max(year) as last_year
    from authored
    group by author_id
),
category_counts as (
    select au.author_id, c.category_id, min(c.category_name) as category_name,
           count(distinct au.paper_id) as n
    from authored au
    join categories c on c.category_code = au.category
    group by au.author_id, c.category_id
),
top_category as (
    select author_id, category_id, category_name
    from category_counts
    qualify row_number() over (partition by author_id order by n desc, category_id) = 1
),
topic_counts as (
    select pa.author_id, pt.topic, count(distinct pt.paper_id) as n
    from paper_authors pa
    join paper_topics pt using (paper_id)
    group by pa.author_id, pt.topic
),
top_topic as (
    select author_id, topic
    from topic_counts
    qualify row_number() over (partition by author_id order by n desc, topic) = 1
)
select
    a.author_id,
    a.name,
    coalesce(b.n_papers, 0)::bigint as n_papers,
    coalesce(b.n_dated_papers, 0)::bigint as n_dated_papers,
    b.first_year::integer as first_year,
    b.last_year::integer as last_year,
    tc.category_id as top_category_id,
    tc.category_name as top_category_name,
    tt.topic as top_topic,
    coalesce(b.n_papers_truncated, 0)::bigint as n_papers_truncated
from authors a
left join base b using (author_id)
left join top_category tc using (author_id)
left join top_topic tt using (author_id)
order by a.author_id;

comment on view author_activity is 'One row per author: papers, first and last year, main category and topic, from the author''s own papers (author_summary adds the co-author network). Papers with a cut author list count like others (n_papers_truncated says how many). Key: author_id.';
comment on column author_activity.author_id is 'The author (authors.author_id). Key.';
comment on column author_activity.name is 'Display name, Given Family.';
comment on column author_activity.n_papers is 'Papers on whose printed author list the author appears.';
comment on column author_activity.n_dated_papers is 'Of those, papers with a known year.';
comment on column author_activity.first_year is 'Year of the author''s first dated paper; null when none is dated.';
comment on column author_activity.last_year is 'Year of the author''s last dated paper; null when none is dated.';
comment on column author_activity.top_category_id is 'arXiv category of most of the author''s categorised papers (ties: smallest id); null when none is categorised.';
comment on column author_activity.top_category_name is 'Name of top_category_id.';
comment on column author_activity.top_topic is 'Topic of most of the author''s papers (ties: alphabetical); null when no paper has a topic.';
comment on column author_activity.n_papers_truncated is 'The author''s papers whose author list was cut: their co-authors there are partly unknown.';
