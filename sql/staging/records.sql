-- records: one row per parsed record, before any merging.
-- Key: (source_file, record_index); record_id is the same key as one string.
-- Reads: lake.records_data.
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
    title_split,
    is_cut,
    is_future_date
from lake.records_data;

comment on view records is 'One row per record parsed from a dump, as printed, before merging: title, authors (Given Family, without et al.), dates resolved against the capture date, and the lines it came from. Key: (source_file, record_index).';

comment on column records.source_file is 'Input file, relative to the raw folder.';
comment on column records.record_index is '0-based order of the record in its file.';
comment on column records.line_start is 'First line of the record in its file, 1-based.';
comment on column records.line_end is 'Last line of the record in its file, 1-based.';
comment on column records.format is 'Dump format the record was parsed from.';
comment on column records.title is 'Title as printed.';
comment on column records.authors is 'Printed author names, Given Family, without et al.';
comment on column records.authors_truncated is 'True when the page cut the list (et al.) or printed no names.';
comment on column records.author_count is 'Author count printed by a daily listing (• N authors).';
comment on column records.affiliations is 'Organisations printed with the record, distinct, in printed order.';
comment on column records.category is 'arXiv category code as printed, e.g. LG.';
comment on column records.has_code is 'True when the record links to code.';
comment on column records.date_text is 'Date as printed (May 18, Dec 4, 2025).';
comment on column records.published_date is 'date_text resolved; a year-less date takes the capture year, or the year before when that would be after the capture date.';
comment on column records.upvotes is 'Upvotes printed by a daily listing.';
comment on column records.abstract is 'Abstract as printed.';
comment on column records.record_id is 'The record as one string: <source_file>#<record_index>.';
comment on column records.author_affiliations is 'Scholar pages: each printed author''s affiliation, aligned with authors.';
comment on column records.title_split is 'Collapsed pages: how title and authors were split (pattern; ambiguous when a title''s closing capitals meet a name starting with one; fallback, none; known_name after the second look at link time).';
comment on column records.is_cut is 'True for the last record of a file that the end of the file cut off: fields its format always prints are missing, or its abstract stops mid-sentence. Kept as far as it goes.';
comment on column records.is_future_date is 'True when published_date is after the capture date of its file (a printed year in the future): kept as printed, not corrected.';
