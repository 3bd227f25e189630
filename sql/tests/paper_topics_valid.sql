-- Rule: a topic is assigned by keyword or category only, and a category row
-- names a category that the paper was printed with and the topic lists.
select pt.paper_id, pt.topic, pt.method, pt.evidence
from paper_topics pt
where pt.method not in ('keyword', 'category') or pt.evidence is null
union all
select pt.paper_id, pt.topic, pt.method, pt.evidence
from paper_topics pt
join papers p using (paper_id)
left join categories c on c.category_code = p.category
join topics t on t.topic = pt.topic
where pt.method = 'category'
  and (c.category_id is distinct from pt.evidence or not list_contains(t.categories, pt.evidence));
