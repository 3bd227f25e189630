-- profile_summary: one row per profile page that names its owner: the
-- header's facts next to what the warehouse holds for the owner.
-- Key: source_file.
-- Reads: profiles, profile_owners, sources, categories, paper_sources,
-- paper_authors, papers, author_network.
create or replace view profile_summary as
with file_papers as (
    select source_file, count(distinct paper_id) as n_papers_in_file
    from paper_sources
    group by source_file
),
owner_in_file as (
    select ps.source_file, count(distinct ps.paper_id) as n
    from paper_sources ps
    join profile_owners po using (source_file)
    join paper_authors pa on pa.paper_id = ps.paper_id and pa.author_id = po.author_id
    group by ps.source_file
),
owner_papers as (
    select
        pa.author_id,
        count(distinct pa.paper_id) as n_papers,
        min(p.year) as first_year,
        max(p.year) as last_year
    from paper_authors pa
    join papers p using (paper_id)
    group by pa.author_id
)
select
    pr.source_file,
    pr.format,
    pr.owner_name,
    po.author_id as owner_author_id,
    pr.primary_category,
    c.category_id as primary_category_id,
    c.category_name as primary_category_name,
    pr.h_index,
    pr.paper_count,
    pr.citation_count,
    pr.novelty_pct,
    pr.ai_score,
    pr.listed_paper_count,
    s.n_records as n_records_in_file,
    coalesce(fp.n_papers_in_file, 0)::bigint as n_papers_in_file,
    coalesce(oif.n, 0)::bigint as n_papers_in_file_owner_printed,
    coalesce(op.n_papers, 0)::bigint as owner_n_papers,
    op.first_year::integer as owner_first_year,
    op.last_year::integer as owner_last_year,
    n.degree as owner_n_coauthors
from profiles pr
join profile_owners po using (source_file)
left join sources s using (source_file)
left join categories c on c.category_code = pr.primary_category
left join file_papers fp using (source_file)
left join owner_in_file oif using (source_file)
left join owner_papers op on op.author_id = po.author_id
left join author_network n on n.author_id = po.author_id
order by pr.source_file;

comment on view profile_summary is 'Each profile page that names its owner: the header facts (h-index, paper and citation counts, scores) beside the owner''s author_id and what the warehouse counts for them. The owner is often cut from author lists (et al.), so owner_n_papers can be lower than the papers listed. Key: source_file.';
comment on column profile_summary.source_file is 'Input file of the profile page. Key.';
comment on column profile_summary.format is 'Dump format of the page.';
comment on column profile_summary.owner_name is 'Owner as printed in the header, Given Family.';
comment on column profile_summary.owner_author_id is 'The owner in authors; null when no printed author list names them.';
comment on column profile_summary.primary_category is 'Owner''s primary category code as printed; null when the page prints none.';
comment on column profile_summary.primary_category_id is 'arXiv id of primary_category.';
comment on column profile_summary.primary_category_name is 'arXiv name of primary_category.';
comment on column profile_summary.h_index is 'h-index printed in the header.';
comment on column profile_summary.paper_count is 'Paper count printed in the header.';
comment on column profile_summary.citation_count is 'Citation count printed in the header.';
comment on column profile_summary.novelty_pct is 'Novelty percentage printed in the header.';
comment on column profile_summary.ai_score is 'AI Score printed in the header.';
comment on column profile_summary.listed_paper_count is 'Count printed above the paper list.';
comment on column profile_summary.n_records_in_file is 'Records parsed from the page.';
comment on column profile_summary.n_papers_in_file is 'Distinct papers those records were linked into.';
comment on column profile_summary.n_papers_in_file_owner_printed is 'Papers of the page on whose printed author list the owner appears.';
comment on column profile_summary.owner_n_papers is 'Papers in the whole warehouse on whose printed author list the owner appears.';
comment on column profile_summary.owner_first_year is 'Year of the owner''s first dated paper in the warehouse.';
comment on column profile_summary.owner_last_year is 'Year of the owner''s last dated paper in the warehouse.';
comment on column profile_summary.owner_n_coauthors is 'The owner''s distinct printed co-authors (author_network.degree); null when the owner is not found.';
