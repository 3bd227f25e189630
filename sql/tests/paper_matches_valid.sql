-- Rule: a match pair names two existing, different records, once, with a
-- known decision; merged pairs end up in one paper.
select m.record_id_a, m.record_id_b, 'unknown record' as problem
from paper_matches m
left join records a on a.record_id = m.record_id_a
left join records b on b.record_id = m.record_id_b
where a.record_id is null or b.record_id is null
union all
select record_id_a, record_id_b, 'pair listed twice'
from paper_matches group by record_id_a, record_id_b having count(*) > 1
union all
select record_id_a, record_id_b, 'bad decision'
from paper_matches where decision not in ('merged', 'review', 'apart') or record_id_a = record_id_b
union all
select m.record_id_a, m.record_id_b, 'merged pair in two papers'
from paper_matches m
join paper_sources pa on pa.record_id = m.record_id_a
join paper_sources pb on pb.record_id = m.record_id_b
where m.decision = 'merged' and pa.paper_id <> pb.paper_id;
