-- papers: one row per paper after linking records across dumps.
-- Key: paper_id (stable: a hash of the smallest normalised title among its
-- records). Reads: lake.papers. Which record gave each field: paper_field_sources.
create or replace view papers as
select
    paper_id,
    title,
    abstract,
    published_date,
    year,
    category,
    has_code,
    upvotes,
    authors_truncated,
    author_count,
    affiliations,
    n_records,
    title_key
from lake.papers;

comment on view papers is 'One row per paper, merged from the records matched as one paper (see paper_matches); each field from the best record (see paper_field_sources). Key: paper_id.';
