-- papers_by_year: one row per year, every year from the first to the last
-- year of a dated paper, with zeros for years without papers.
-- Key: year. Reads: papers, paper_authors.
-- Papers without a date (scholar pages print none) are in no year.
create or replace view papers_by_year as
with years as (
    select unnest(generate_series(min(year), max(year)))::integer as year from papers
),
printed as (
    select paper_id, count(*) as n_printed from paper_authors group by paper_id
),
dated as (
    select
        p.paper_id,
        p.year,
        p.authors_truncated,
        coalesce(pr.n_printed, 0) as n_printed,
        -- Team size is known from a printed count or an uncut list only.
        coalesce(p.author_count, case when not p.authors_truncated then pr.n_printed end)
            as team_size
    from papers p
    left join printed pr using (paper_id)
    where p.year is not null
),
per_year as (
    select
        year,
        count(*) as n_papers,
        count(team_size) as n_papers_team_known,
        avg(team_size) as mean_team_size,
        avg(n_printed) as mean_printed_authors,
        count(*) filter (where authors_truncated) as n_papers_truncated
    from dated
    group by year
),
authors_per_year as (
    select d.year, count(distinct pa.author_id) as n_authors
    from dated d
    join paper_authors pa using (paper_id)
    group by d.year
),
first_years as (
    select pa.author_id, min(d.year) as year
    from paper_authors pa
    join dated d using (paper_id)
    group by pa.author_id
),
new_per_year as (
    select year, count(*) as n_new_authors from first_years group by year
)
select
    y.year,
    coalesce(p.n_papers, 0)::bigint as n_papers,
    coalesce(a.n_authors, 0)::bigint as n_authors,
    coalesce(n.n_new_authors, 0)::bigint as n_new_authors,
    p.mean_team_size::double as mean_team_size,
    coalesce(p.n_papers_team_known, 0)::bigint as n_papers_team_known,
    p.mean_printed_authors::double as mean_printed_authors,
    coalesce(p.n_papers_truncated, 0)::bigint as n_papers_truncated
from years y
left join per_year p using (year)
left join authors_per_year a using (year)
left join new_per_year n using (year)
order by y.year;

comment on view papers_by_year is 'Output per year: papers, authors, first-time authors, team size. One row per year from the first to the last dated paper, zeros for years without papers; undated papers are in no year. Author figures count printed names only: most lists are cut after three names, so they are partial (see n_papers_truncated). Key: year.';
comment on column papers_by_year.year is 'Publication year. Key.';
comment on column papers_by_year.n_papers is 'Papers published in the year.';
comment on column papers_by_year.n_authors is 'Distinct printed authors of the year''s papers (partial where lists were cut).';
comment on column papers_by_year.n_new_authors is 'Printed authors whose first dated paper in the warehouse is from this year.';
comment on column papers_by_year.mean_team_size is 'Mean number of authors over the year''s papers whose team size is known (a printed count, or an author list that was not cut); null when none is known.';
comment on column papers_by_year.n_papers_team_known is 'Papers behind mean_team_size.';
comment on column papers_by_year.mean_printed_authors is 'Mean number of printed author names per paper of the year (cut lists print at most three).';
comment on column papers_by_year.n_papers_truncated is 'Papers of the year whose author list was cut or not printed.';
