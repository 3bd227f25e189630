-- records: one row per parsed record, before any merging.
-- Key: (source_file, record_index); record_id is the same key as one string.
-- Reads: lake.records.
create or replace view records as
select
    source_file,
    record_index,
    line_start,
    line_end,
    format,
    title,
    authors,
    authors_truncated,
    author_count,
    affiliations,
    category,
    has_code,
    date_text,
    published_date,
    upvotes,
    abstract,
    record_id,
    author_affiliations,
    title_split
from lake.records;

comment on view records is 'One row per record parsed from a dump, as printed, before merging: title, authors (Given Family, without et al.), dates resolved against the capture date, and the lines it came from. Key: (source_file, record_index).';
