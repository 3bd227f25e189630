-- Rule: a co-author pair is listed once, with author_id_a < author_id_b, in
-- coauthor_pairs and in coauthor_edges_by_year.
select 'coauthor_pairs' as relation, author_id_a, author_id_b
from coauthor_pairs where author_id_a >= author_id_b
union all
select 'coauthor_pairs reversed', x.author_id_a, x.author_id_b
from coauthor_pairs x join coauthor_pairs y
  on x.author_id_a = y.author_id_b and x.author_id_b = y.author_id_a
union all
select 'coauthor_edges_by_year', author_id_a, author_id_b
from coauthor_edges_by_year where author_id_a >= author_id_b;
