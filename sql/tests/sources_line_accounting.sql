-- Rule: every input line is in a record, in the quarantine or counted as
-- page furniture, exactly once.
with spans as (
    select source_file, sum(line_end - line_start + 1) as record_lines, count(*) as n
    from records group by source_file
), rejected as (
    select source_file, sum(coalesce(line_end - line_start + 1, 0)) as rejected_lines
    from rejects group by source_file
)
select s.source_file, s.n_lines, coalesce(sp.record_lines, 0) as record_lines,
       s.n_rejected_lines, s.n_furniture_lines
from sources s
left join spans sp using (source_file)
left join rejected rj using (source_file)
where s.n_lines <> coalesce(sp.record_lines, 0) + s.n_rejected_lines + s.n_furniture_lines
   or s.n_records <> coalesce(sp.n, 0)
   or s.n_rejected_lines <> coalesce(rj.rejected_lines, 0);
