-- rejects: the quarantine. One row per run of input lines that could not be
-- parsed, with the reason. A whole-file reject (empty, binary, unrecognised)
-- covers all its lines (line_start and line_end are null for an empty file).
-- Reads: lake.rejects_data.
create or replace view rejects as
select source_file, line_start, line_end, reason, raw_text
from lake.rejects_data;

comment on view rejects is 'The quarantine: runs of input lines that could not be parsed, with file, first and last line (1-based), reason and raw text.';

comment on column rejects.source_file is 'Input file, relative to the raw folder.';
comment on column rejects.line_start is 'First quarantined line, 1-based; null for an empty file.';
comment on column rejects.line_end is 'Last quarantined line, 1-based; null for an empty file.';
comment on column rejects.reason is 'Why the lines could not be parsed.';
comment on column rejects.raw_text is 'The quarantined lines as read.';
