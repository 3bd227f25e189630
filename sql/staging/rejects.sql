-- rejects: the quarantine. One row per run of input lines that could not be
-- parsed, with the reason. A whole-file reject (empty, binary, unrecognised)
-- covers all its lines (line_start and line_end are null for an empty file).
-- Reads: lake.rejects.
create or replace view rejects as
select source_file, line_start, line_end, reason, raw_text
from lake.rejects;

comment on view rejects is 'The quarantine: runs of input lines that could not be parsed, with file, first and last line (1-based), reason and raw text.';
