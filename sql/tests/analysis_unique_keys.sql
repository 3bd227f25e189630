-- Rule: every analysis view and table has one row per key. The author-keyed
-- views are checked for the authors in their scope (scope_<view>: every
-- author in a full build; in an incremental one, those the change touched).
-- coauthors is coauthor_pairs both ways: unique pairs with author_id_a <
-- author_id_b (coauthor_pairs_ordered.sql) make its rows unique.
-- author_summary keeps no rows and has no scope: it is checked whole (a join
-- of author_activity and author_network, one row per author each).
select 'categories' as relation, category_code as key, count(*) as n
from categories group by category_code having count(*) > 1
union all
select 'topics', topic, count(*) from topics group by topic having count(*) > 1
union all
select 'paper_topics', paper_id || '/' || topic || '/' || method, count(*)
from paper_topics group by paper_id, topic, method having count(*) > 1
union all
select 'author_network', author_id, count(*)
from author_network group by author_id having count(*) > 1
union all
select 'profile_owners', source_file, count(*)
from profile_owners group by source_file having count(*) > 1
union all
select 'papers_by_year', year::varchar, count(*)
from papers_by_year group by year having count(*) > 1
union all
select 'category_year', category_id || '/' || year, count(*)
from category_year group by category_id, year having count(*) > 1
union all
select 'topic_year', topic || '/' || year, count(*)
from topic_year group by topic, year having count(*) > 1
union all
select 'author_activity', author_id, count(*)
from author_activity where author_id in (select author_id from scope_author_activity)
group by author_id having count(*) > 1
union all
select 'author_summary', author_id, count(*)
from author_summary group by author_id having count(*) > 1
union all
select 'author_topics', author_id || '/' || topic, count(*)
from author_topics where author_id in (select author_id from scope_author_topics)
group by author_id, topic having count(*) > 1
union all
select 'coauthor_pairs', author_id_a || '/' || author_id_b, count(*)
from coauthor_pairs where author_id_a in (select author_id from scope_coauthor_pairs)
   or author_id_b in (select author_id from scope_coauthor_pairs)
group by author_id_a, author_id_b having count(*) > 1
union all
select 'coauthor_edges_by_year', year || '/' || author_id_a || '/' || author_id_b, count(*)
from coauthor_edges_by_year
where author_id_a in (select author_id from scope_coauthor_edges_by_year)
   or author_id_b in (select author_id from scope_coauthor_edges_by_year)
group by year, author_id_a, author_id_b having count(*) > 1
union all
select 'profile_summary', source_file, count(*)
from profile_summary group by source_file having count(*) > 1;
