-- Rule: every record belongs to exactly one paper, and every paper_sources
-- row names an existing record and paper.
select r.record_id, count(ps.paper_id) as n_papers
from records r
left join paper_sources ps using (source_file, record_index)
group by r.record_id
having count(ps.paper_id) <> 1
union all
select ps.record_id, 0
from paper_sources ps
left join records r using (source_file, record_index)
left join papers p using (paper_id)
where r.record_id is null or p.paper_id is null;
