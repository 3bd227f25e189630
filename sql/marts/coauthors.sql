-- coauthors: one row per (author, co-author) printed together on at least one
-- paper, in both directions: the pair (a, b) of coauthor_pairs is here twice,
-- as (a, b) and as (b, a), so one author's co-authors are
-- `where author_id = ?` whichever id is smaller.
-- Key: (author_id, coauthor_id). Reads: paper_authors, papers, authors.
-- fractional_weight is summed as exact decimals, as in coauthor_pairs, so both
-- views agree to the last bit (sql/tests/coauthors_match_pairs.sql checks it).
create or replace view coauthors as
with printed as (
    select paper_id, author_id, count(*) over (partition by paper_id) as n_printed
    from paper_authors
),
shared as (
    select a.author_id, b.author_id as coauthor_id, a.paper_id, a.n_printed
    from printed a
    join printed b on a.paper_id = b.paper_id and a.author_id <> b.author_id
)
select
    s.author_id,
    na.name,
    s.coauthor_id,
    nc.name as coauthor_name,
    count(*)::bigint as n_papers,
    sum((1.0::double / (s.n_printed - 1))::decimal(38, 18))::double as fractional_weight,
    min(p.year)::integer as first_year,
    max(p.year)::integer as last_year,
    (count(*) filter (where p.authors_truncated))::bigint as n_papers_truncated
from shared s
join papers p using (paper_id)
join authors na on na.author_id = s.author_id
join authors nc on nc.author_id = s.coauthor_id
group by s.author_id, na.name, s.coauthor_id, nc.name
order by s.author_id, s.coauthor_id;

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
