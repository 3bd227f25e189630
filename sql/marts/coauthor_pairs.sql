-- coauthor_pairs: one row per pair of authors printed together on at least
-- one paper, each pair once with author_id_a < author_id_b.
-- Key: (author_id_a, author_id_b). Reads: paper_authors, papers, authors.
-- Incremental: author_id_a, author_id_b (a row reads only the pair's shared papers).
-- fractional_weight is summed as exact decimals: a parallel sum of doubles
-- differs in its last bit from run to run, and tables must be byte-identical.
create or replace view coauthor_pairs as
with printed as (
    select paper_id, author_id, count(*) over (partition by paper_id) as n_printed
    from paper_authors
),
shared as (
    select a.author_id as author_id_a, b.author_id as author_id_b, a.paper_id, a.n_printed
    from printed a
    join printed b on a.paper_id = b.paper_id and a.author_id < b.author_id
)
select
    s.author_id_a,
    na.name as name_a,
    s.author_id_b,
    nb.name as name_b,
    count(*)::bigint as n_papers,
    sum((1.0::double / (s.n_printed - 1))::decimal(38, 18))::double as fractional_weight,
    min(p.year)::integer as first_year,
    max(p.year)::integer as last_year,
    (count(*) filter (where p.authors_truncated))::bigint as n_papers_truncated
from shared s
join papers p using (paper_id)
join authors na on na.author_id = s.author_id_a
join authors nb on nb.author_id = s.author_id_b
group by s.author_id_a, na.name, s.author_id_b, nb.name
order by s.author_id_a, s.author_id_b;

comment on view coauthor_pairs is 'Who works with whom: each pair of authors printed on a common paper, once (author_id_a < author_id_b). Only printed names count: pages cut author lists after three names, so pairs with cut-off co-authors are missing and the figures are partial (n_papers_truncated says how many shared papers had a cut list). Key: (author_id_a, author_id_b).';
comment on column coauthor_pairs.author_id_a is 'The pair''s smaller author_id. Key with author_id_b.';
comment on column coauthor_pairs.name_a is 'Display name of author_id_a.';
comment on column coauthor_pairs.author_id_b is 'The pair''s larger author_id. Key with author_id_a.';
comment on column coauthor_pairs.name_b is 'Display name of author_id_b.';
comment on column coauthor_pairs.n_papers is 'Papers on which both are printed.';
comment on column coauthor_pairs.fractional_weight is 'Sum over shared papers of 1/(n-1), n the paper''s printed authors: a paper adds 1 to each author''s total link strength.';
comment on column coauthor_pairs.first_year is 'Year of the first dated shared paper; null when none is dated.';
comment on column coauthor_pairs.last_year is 'Year of the last dated shared paper; null when none is dated.';
comment on column coauthor_pairs.n_papers_truncated is 'Shared papers whose author list was cut (et al.): on those, n counts printed names only.';
