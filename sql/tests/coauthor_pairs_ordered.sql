-- Rule: a co-author pair is listed once, with author_id_a < author_id_b, in
-- coauthor_pairs and in coauthor_edges_by_year. Checks the pairs of the
-- authors in each view's scope (scope_<view>: every author in a full build).
with pairs as (
    select author_id_a, author_id_b from coauthor_pairs
    where author_id_a in (select author_id from scope_coauthor_pairs)
       or author_id_b in (select author_id from scope_coauthor_pairs)
)
select 'coauthor_pairs' as relation, author_id_a, author_id_b
from pairs where author_id_a >= author_id_b
union all
select 'coauthor_pairs reversed', x.author_id_a, x.author_id_b
from pairs x join coauthor_pairs y
  on x.author_id_a = y.author_id_b and x.author_id_b = y.author_id_a
union all
select 'coauthor_edges_by_year', author_id_a, author_id_b
from coauthor_edges_by_year
where author_id_a >= author_id_b
  and (author_id_a in (select author_id from scope_coauthor_edges_by_year)
       or author_id_b in (select author_id from scope_coauthor_edges_by_year));
