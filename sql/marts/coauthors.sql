-- coauthors: one row per (author, co-author) printed together on at least one
-- paper, in both directions: the pair (a, b) of coauthor_pairs is here twice,
-- as (a, b) and as (b, a), so one author's co-authors are
-- `where author_id = ?` whichever id is smaller.
-- Key: (author_id, coauthor_id). Reads: coauthor_pairs (the pairs are counted
-- once, there; sql/tests/coauthors_match_pairs.sql checks both directions).
-- Materialized: no (a union of coauthor_pairs' stored rows: storing it would
-- copy them twice; unordered, so that a filtered query sorts nothing).
create or replace view coauthors as
select
    author_id_a as author_id,
    name_a as name,
    author_id_b as coauthor_id,
    name_b as coauthor_name,
    n_papers,
    fractional_weight,
    first_year,
    last_year,
    n_papers_truncated
from coauthor_pairs
union all
select
    author_id_b as author_id,
    name_b as name,
    author_id_a as coauthor_id,
    name_a as coauthor_name,
    n_papers,
    fractional_weight,
    first_year,
    last_year,
    n_papers_truncated
from coauthor_pairs;

comment on view coauthors is 'Each author''s co-authors: a row for every (author, co-author) printed on a common paper, in both directions (every coauthor_pairs row twice), so filtering on author_id lists all of one person''s co-authors. Printed names only, as in coauthor_pairs: cut author lists hide co-authors. Key: (author_id, coauthor_id).';
comment on column coauthors.author_id is 'The author (authors.author_id). Key with coauthor_id.';
comment on column coauthors.name is 'Display name of author_id.';
comment on column coauthors.coauthor_id is 'A co-author printed with them (authors.author_id). Key with author_id.';
comment on column coauthors.coauthor_name is 'Display name of coauthor_id.';
comment on column coauthors.n_papers is 'Papers on which both are printed.';
comment on column coauthors.fractional_weight is 'Sum over shared papers of 1/(n-1), n the paper''s printed authors (as in coauthor_pairs).';
comment on column coauthors.first_year is 'Year of the first dated shared paper; null when none is dated.';
comment on column coauthors.last_year is 'Year of the last dated shared paper; null when none is dated.';
comment on column coauthors.n_papers_truncated is 'Shared papers whose author list was cut (et al.): on those, n counts printed names only.';
