-- Rule: no two records or rejects of a file share a line, except a reject
-- lying wholly inside one record (a line of it quarantined alone).
with spans as (
    select source_file, line_start, line_end, 'record' as kind from records
    union all
    select source_file, line_start, line_end, 'reject' as kind
    from rejects where line_start is not null
)
select a.source_file, a.kind, a.line_start, a.line_end, b.kind, b.line_start, b.line_end
from spans a join spans b
  on a.source_file = b.source_file
 and a.line_start < b.line_start
 and b.line_start <= a.line_end
where not (a.kind = 'record' and b.kind = 'reject' and b.line_end <= a.line_end);
