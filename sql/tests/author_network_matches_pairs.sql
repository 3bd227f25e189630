-- Rule: author_network agrees with coauthor_pairs (degree and weighted
-- degree), component and community sizes are the number of authors carrying
-- the id, and a community never spans two components.
with ends as (
    select author_id_a as author_id, fractional_weight from coauthor_pairs
    union all
    select author_id_b, fractional_weight from coauthor_pairs
),
expected as (
    select author_id, count(*) as degree, sum(fractional_weight) as weighted
    from ends group by author_id
)
select 'degree' as problem, n.author_id, n.degree, coalesce(e.degree, 0) as expected
from author_network n left join expected e using (author_id)
where n.degree <> coalesce(e.degree, 0)
   or abs(n.weighted_degree - coalesce(e.weighted, 0)) > 1e-9
union all
select 'component size', min(author_id), min(component_size), count(*)
from author_network group by component_id
having count(*) <> min(component_size) or min(component_size) <> max(component_size)
union all
select 'community size', min(author_id), min(community_size), count(*)
from author_network group by community_id
having count(*) <> min(community_size) or min(community_size) <> max(community_size)
union all
select 'community spans components', min(author_id), count(distinct component_id), 1
from author_network group by community_id
having count(distinct component_id) > 1
union all
select 'pair across components', c.author_id_a, na.component_id, nb.component_id
from coauthor_pairs c
join author_network na on na.author_id = c.author_id_a
join author_network nb on nb.author_id = c.author_id_b
where na.component_id <> nb.component_id;
