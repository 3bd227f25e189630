-- Rule: coauthors is coauthor_pairs in both directions: each pair twice,
-- (a, b) and (b, a), with the same figures, and nothing else.
with both_ways as (
    select author_id_a as author_id, author_id_b as coauthor_id, n_papers,
           fractional_weight, first_year, last_year, n_papers_truncated
    from coauthor_pairs
    union all
    select author_id_b, author_id_a, n_papers,
           fractional_weight, first_year, last_year, n_papers_truncated
    from coauthor_pairs
),
listed as (
    select author_id, coauthor_id, n_papers,
           fractional_weight, first_year, last_year, n_papers_truncated
    from coauthors
)
select 'missing from coauthors' as problem, *
from (select * from both_ways except all select * from listed)
union all
select 'not in coauthor_pairs', *
from (select * from listed except all select * from both_ways);
