-- author_topics: one row per (author, topic) the author has at least one
-- paper in. Key: (author_id, topic).
-- Reads: paper_authors, paper_topics, authors.
-- Incremental: author_id (a row reads only its author's papers).
create or replace view author_topics as
with counts as (
    select pa.author_id, pt.topic, count(distinct pt.paper_id) as n_papers
    from paper_authors pa
    join paper_topics pt using (paper_id)
    group by pa.author_id, pt.topic
),
author_papers as (
    select author_id, count(distinct paper_id) as n_author_papers
    from paper_authors
    group by author_id
)
select
    c.author_id,
    a.name,
    c.topic,
    c.n_papers::bigint as n_papers,
    (c.n_papers / ap.n_author_papers)::double as share_of_author_papers
from counts c
join authors a using (author_id)
join author_papers ap using (author_id)
order by c.author_id, c.topic;

comment on view author_topics is 'What each author works on: papers per (author, topic), for the topics they have a paper in. Only printed authors are credited: a name cut from a list (et al.) gets no topic from that paper. Key: (author_id, topic).';
comment on column author_topics.author_id is 'The author (authors.author_id). Key with topic.';
comment on column author_topics.name is 'The author''s display name.';
comment on column author_topics.topic is 'The topic (topics.topic). Key with author_id.';
comment on column author_topics.n_papers is 'Distinct papers of the author carrying the topic (by keyword or category).';
comment on column author_topics.share_of_author_papers is 'n_papers / the author''s papers.';
