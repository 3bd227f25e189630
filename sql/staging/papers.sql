-- papers: one row per paper after linking records across dumps.
-- Key: paper_id (stable: a hash of the smallest normalised title among its
-- records). Reads: lake.papers_data. Which record gave each field: paper_field_sources.
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
from lake.papers_data;

comment on view papers is 'One row per paper, merged from the records matched as one paper (see paper_matches); each field from the best record (see paper_field_sources). Key: paper_id.';

comment on column papers.paper_id is 'Stable id of the paper: pap_ + 16 hex digits of MD5 of its smallest normalised title (plus its first record when two papers share a title). Key.';
comment on column papers.title is 'Title, from a record without LaTeX markup and from a reliable title/author split when there is one.';
comment on column papers.abstract is 'Abstract: the longest printed (a cut-off copy is shorter).';
comment on column papers.published_date is 'Publication date; a date printed with its year wins over one whose year was inferred from the capture date. Null when no record printed a date.';
comment on column papers.year is 'Year of published_date; null when the date is unknown (scholar pages print none).';
comment on column papers.category is 'arXiv category code as printed, e.g. LG; see categories for its id and name. Null when no record printed one (daily listings, scholar pages).';
comment on column papers.has_code is 'True when any record says the paper links to code.';
comment on column papers.upvotes is 'Highest upvote count printed by a daily listing; null elsewhere.';
comment on column papers.authors_truncated is 'True when the author list was cut (et al.) or not printed at all: author figures for this paper are partial.';
comment on column papers.author_count is 'Highest author count printed by a daily listing (• N authors); null elsewhere.';
comment on column papers.affiliations is 'Organisations printed with any of the paper''s records, united, in file order.';
comment on column papers.n_records is 'How many parsed records were linked into this paper.';
comment on column papers.title_key is 'Normalised title used for matching (NFKC, LaTeX reduced, case, punctuation and spacing folded).';
