-- Rule: ids in the analysis views and tables name existing papers, authors,
-- topics, categories and profile pages; every author has a network row.
-- The author-keyed views are checked for the authors in their scope
-- (scope_<view>; coauthors is coauthor_pairs twice, author_summary is
-- author_activity beside author_network: author_views_match.sql).
select 'paper_topics.paper_id' as reference, pt.paper_id as id
from paper_topics pt left join papers p using (paper_id) where p.paper_id is null
union all
select 'paper_topics.topic', pt.topic
from paper_topics pt left join topics t using (topic) where t.topic is null
union all
select 'papers.category', p.category
from papers p left join categories c on c.category_code = p.category
where p.category is not null and c.category_code is null
union all
select 'records.category', r.category
from records r left join categories c on c.category_code = r.category
where r.category is not null and c.category_code is null
union all
select 'author_network.author_id', n.author_id
from author_network n left join authors a using (author_id) where a.author_id is null
union all
select 'authors without author_network', a.author_id
from authors a left join author_network n using (author_id) where n.author_id is null
union all
select 'profile_owners.source_file', po.source_file
from profile_owners po left join profiles pr using (source_file) where pr.source_file is null
union all
select 'profile_owners.author_id', po.author_id
from profile_owners po left join authors a using (author_id)
where po.author_id is not null and a.author_id is null
union all
select 'coauthor_pairs.author_id_a', cp.author_id_a
from coauthor_pairs cp left join authors a on a.author_id = cp.author_id_a
where a.author_id is null and cp.author_id_a in (select author_id from scope_coauthor_pairs)
union all
select 'coauthor_pairs.author_id_b', cp.author_id_b
from coauthor_pairs cp left join authors a on a.author_id = cp.author_id_b
where a.author_id is null and cp.author_id_b in (select author_id from scope_coauthor_pairs)
union all
select 'coauthors.author_id', co.author_id
from coauthors co left join authors a on a.author_id = co.author_id
where a.author_id is null and co.author_id in (select author_id from scope_coauthor_pairs)
union all
select 'coauthors.coauthor_id', co.coauthor_id
from coauthors co left join authors a on a.author_id = co.coauthor_id
where a.author_id is null and co.coauthor_id in (select author_id from scope_coauthor_pairs)
union all
select 'author_topics.author_id', atp.author_id
from author_topics atp left join authors a using (author_id)
where a.author_id is null and atp.author_id in (select author_id from scope_author_topics)
union all
select 'author_activity.author_id', aa.author_id
from author_activity aa left join authors a using (author_id)
where a.author_id is null and aa.author_id in (select author_id from scope_author_activity)
union all
select 'author_activity.top_topic', aa.top_topic
from author_activity aa left join topics t on t.topic = aa.top_topic
where aa.top_topic is not null and t.topic is null
  and aa.author_id in (select author_id from scope_author_activity)
union all
select 'author_activity.top_category_id', aa.top_category_id
from author_activity aa left join categories c on c.category_id = aa.top_category_id
where aa.top_category_id is not null and c.category_id is null
  and aa.author_id in (select author_id from scope_author_activity)
union all
select 'author_topics.topic', atp.topic
from author_topics atp left join topics t using (topic) where t.topic is null
union all
select 'topic_year.topic', ty.topic
from topic_year ty left join topics t using (topic) where t.topic is null
union all
select 'category_year.category_id', cy.category_id
from category_year cy left join categories c using (category_id) where c.category_id is null;
