-- category_year: one row per (arXiv category, year) for every category
-- printed on a paper and every year from the first to the last dated paper,
-- zeros included. Key: (category_id, year).
-- Reads: papers, categories.
create or replace view category_year as
with years as (
    select unnest(generate_series(min(year), max(year)))::integer as year from papers
),
paper_categories as (
    select p.paper_id, p.year, c.category_id
    from papers p
    join categories c on c.category_code = p.category
),
category_names as (
    -- Several printed spellings can resolve to one id; they share its name.
    select
        category_id,
        min(category_name) as category_name,
        min(archive) as archive,
        bool_or(is_known) as is_known
    from categories
    where category_id in (select category_id from paper_categories)
    group by category_id
),
counts as (
    select category_id, year, count(distinct paper_id) as n_papers
    from paper_categories
    where year is not null
    group by category_id, year
),
year_totals as (
    select year, count(distinct paper_id) as n_categorised
    from paper_categories
    where year is not null
    group by year
),
grid as (
    -- In its own CTE so the view's printed SQL re-parses (see topic_year.sql).
    select k.*, y.year from category_names k cross join years y
)
select
    g.category_id,
    coalesce(g.category_name, g.category_id || ' (unknown code)') as category_name,
    g.archive,
    g.is_known,
    g.year,
    coalesce(c.n_papers, 0)::bigint as n_papers,
    coalesce(t.n_categorised, 0)::bigint as n_categorised_papers,
    coalesce(c.n_papers / nullif(t.n_categorised, 0), 0)::double as share_of_year
from grid g
left join counts c on c.category_id = g.category_id and c.year = g.year
left join year_totals t on t.year = g.year
order by g.category_id, g.year;

comment on view category_year is 'Papers per arXiv category and year, zeros included, for every category printed on a paper. Only profile pages print categories: papers from daily listings and scholar pages are in no category. Key: (category_id, year).';
comment on column category_year.category_id is 'arXiv category id (cs.LG); the printed code for an unknown code. Key with year.';
comment on column category_year.category_name is 'arXiv''s name of the category, or "<code> (unknown code)".';
comment on column category_year.archive is 'arXiv archive of the category; null for an unknown code.';
comment on column category_year.is_known is 'False when the printed code is not in the category taxonomy.';
comment on column category_year.year is 'Publication year. Key with category_id.';
comment on column category_year.n_papers is 'Papers of the year printed with this category.';
comment on column category_year.n_categorised_papers is 'Papers of the year printed with any category (the share''s denominator).';
comment on column category_year.share_of_year is 'n_papers / n_categorised_papers; 0 when the year has no categorised paper.';
