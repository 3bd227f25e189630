-- papers: one row per paper after linking records across dumps.
-- Key: paper_id (stable: a hash of the normalised title). Reads: lake.papers.
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
    n_records,
    title_key
from lake.papers;

comment on view papers is 'One row per paper, merged from the records that share its normalised title; each field from the best record. Key: paper_id.';
