-- topic_year: one row per (topic, year) for every topic of the taxonomy and
-- every year from the first to the last dated paper, zeros included.
-- Key: (topic, year). Reads: papers, paper_topics, topics.
create or replace view topic_year as
with years as (
    select unnest(generate_series(min(year), max(year)))::integer as year from papers
),
tagged as (
    select pt.topic, p.year, pt.paper_id, pt.method
    from paper_topics pt
    join papers p using (paper_id)
    where p.year is not null
),
counts as (
    select
        topic,
        year,
        count(distinct paper_id) as n_papers,
        count(distinct paper_id) filter (where method = 'keyword') as n_papers_keyword,
        count(distinct paper_id) filter (where method = 'category') as n_papers_category
    from tagged
    group by topic, year
),
year_totals as (
    select year, count(*) as n_year_papers from papers where year is not null group by year
),
-- The grid in its own CTE: DuckDB prints "a cross join b left join c" back as
-- "a, b left join c", which does not re-parse; tools that show or re-create a
-- view from duckdb_views().sql would break.
grid as (
    select t.topic, t.topic_position, y.year from topics t cross join years y
)
select
    g.topic,
    g.year,
    coalesce(c.n_papers, 0)::bigint as n_papers,
    coalesce(c.n_papers_keyword, 0)::bigint as n_papers_keyword,
    coalesce(c.n_papers_category, 0)::bigint as n_papers_category,
    coalesce(yt.n_year_papers, 0)::bigint as n_year_papers,
    coalesce(c.n_papers / nullif(yt.n_year_papers, 0), 0)::double as share_of_year
from grid g
left join counts c on c.topic = g.topic and c.year = g.year
left join year_totals yt on yt.year = g.year
order by g.topic_position, g.year;

comment on view topic_year is 'Papers per topic and year, zeros included. A paper counts once per topic whether the topic came from a keyword, its category, or both; a paper can carry several topics, so shares of a year can add up to more than 1. Key: (topic, year).';
comment on column topic_year.topic is 'Topic (topics.topic). Key with year.';
comment on column topic_year.year is 'Publication year. Key with topic.';
comment on column topic_year.n_papers is 'Distinct papers of the year carrying the topic.';
comment on column topic_year.n_papers_keyword is 'Of those, papers whose title or abstract matched the topic''s regex.';
comment on column topic_year.n_papers_category is 'Of those, papers whose printed arXiv category implies the topic.';
comment on column topic_year.n_year_papers is 'All papers of the year (the share''s denominator).';
comment on column topic_year.share_of_year is 'n_papers / n_year_papers; 0 when the year has no paper.';
