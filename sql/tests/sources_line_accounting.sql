-- Rule: every input line is in a record, in the quarantine or counted as
-- page furniture, exactly once. A line quarantined alone inside a record's
-- span (a stray line where a field belongs) counts in the quarantine only.
with spans as (
    select source_file, sum(line_end - line_start + 1) as span_lines, count(*) as n
    from records group by source_file
), nested as (
    select j.source_file, sum(j.line_end - j.line_start + 1) as nested_lines
    from rejects j
    join records r
      on r.source_file = j.source_file
     and j.line_start >= r.line_start
     and j.line_end <= r.line_end
    group by j.source_file
), rejected as (
    select source_file, sum(coalesce(line_end - line_start + 1, 0)) as rejected_lines
    from rejects group by source_file
)
select s.source_file, s.n_lines, coalesce(sp.span_lines, 0) as span_lines,
       coalesce(ne.nested_lines, 0) as nested_lines,
       s.n_record_lines, s.n_rejected_lines, s.n_furniture_lines
from sources s
left join spans sp using (source_file)
left join nested ne using (source_file)
left join rejected rj using (source_file)
where s.n_lines <> s.n_record_lines + s.n_rejected_lines + s.n_furniture_lines
   or s.n_record_lines <> coalesce(sp.span_lines, 0) - coalesce(ne.nested_lines, 0)
   or s.n_records <> coalesce(sp.n, 0)
   or s.n_rejected_lines <> coalesce(rj.rejected_lines, 0);
