-- Rule: every field source names a record of that same paper.
select fs.paper_id, fs.field, fs.record_id
from paper_field_sources fs
left join paper_sources ps on ps.record_id = fs.record_id and ps.paper_id = fs.paper_id
where ps.record_id is null;
