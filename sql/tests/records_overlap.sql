-- Rule: no two records or rejects of a file share a line.
with spans as (
    select source_file, line_start, line_end from records
    union all
    select source_file, line_start, line_end from rejects where line_start is not null
)
select a.source_file, a.line_start, a.line_end, b.line_start, b.line_end
from spans a join spans b
  on a.source_file = b.source_file
 and a.line_start < b.line_start
 and b.line_start <= a.line_end;
