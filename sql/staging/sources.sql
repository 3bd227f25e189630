-- sources: one row per input file of the last refresh.
-- Key: source_file. Reads: lake.sources.
-- n_lines = n_record_lines (sum of record spans) + n_rejected_lines + n_furniture_lines.
create or replace view sources as
select
    source_file,
    sha256,
    format,
    capture_date,
    capture_date_origin,
    n_lines,
    n_records,
    n_rejected_lines,
    n_furniture_lines,
    n_record_lines,
    encoding,
    format_reason,
    notes
from lake.sources;

comment on view sources is 'One row per input file: its hash, detected format, capture date (and where that date came from) and how its lines were accounted for. Key: source_file.';
