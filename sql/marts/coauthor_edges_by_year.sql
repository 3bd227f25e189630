-- coauthor_edges_by_year: one row per (year, pair of authors) with a shared
-- dated paper that year, author_id_a < author_id_b.
-- Key: (year, author_id_a, author_id_b). Reads: paper_authors, papers, authors.
-- Incremental: author_id_a, author_id_b (a row reads only the pair's shared papers).
-- fractional_weight is summed as exact decimals: a parallel sum of doubles
-- differs in its last bit from run to run, and tables must be byte-identical.
create or replace view coauthor_edges_by_year as
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
    p.year,
    s.author_id_a,
    na.name as name_a,
    s.author_id_b,
    nb.name as name_b,
    count(*)::bigint as n_papers,
    sum((1.0::double / (s.n_printed - 1))::decimal(38, 18))::double as fractional_weight
from shared s
join papers p using (paper_id)
join authors na on na.author_id = s.author_id_a
join authors nb on nb.author_id = s.author_id_b
where p.year is not null
group by p.year, s.author_id_a, na.name, s.author_id_b, nb.name
order by p.year, s.author_id_a, s.author_id_b;

comment on view coauthor_edges_by_year is 'The co-author network year by year, for animated or filtered network charts: a row for each pair and year with a shared dated paper (pairs with no paper that year have no row). Printed names only, as in coauthor_pairs. Key: (year, author_id_a, author_id_b).';
comment on column coauthor_edges_by_year.year is 'Publication year of the shared papers. Key with the pair.';
comment on column coauthor_edges_by_year.author_id_a is 'The pair''s smaller author_id.';
comment on column coauthor_edges_by_year.name_a is 'Display name of author_id_a.';
comment on column coauthor_edges_by_year.author_id_b is 'The pair''s larger author_id.';
comment on column coauthor_edges_by_year.name_b is 'Display name of author_id_b.';
comment on column coauthor_edges_by_year.n_papers is 'Papers of the year on which both are printed.';
comment on column coauthor_edges_by_year.fractional_weight is 'Sum over those papers of 1/(n-1), n the paper''s printed authors.';
