-- sources: one row per input file of the last refresh.
-- Key: source_file. Reads: lake.sources_data.
-- n_lines = n_record_lines (record spans, less lines quarantined alone inside them)
-- + n_rejected_lines + n_furniture_lines.
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
from lake.sources_data;

comment on view sources is 'One row per input file: its hash, detected format, capture date (and where that date came from) and how its lines were accounted for. Key: source_file.';

comment on column sources.source_file is 'Input file, relative to the raw folder. Key.';
comment on column sources.sha256 is 'SHA-256 of the file''s bytes.';
comment on column sources.format is 'Detected dump format; null when the whole file was quarantined.';
comment on column sources.capture_date is 'When the dump was copied from its page; resolves year-less dates.';
comment on column sources.capture_date_origin is 'Where capture_date came from: as-of, manifest or file-mtime.';
comment on column sources.n_lines is 'Lines in the file.';
comment on column sources.n_records is 'Records parsed from the file.';
comment on column sources.n_rejected_lines is 'Lines quarantined (see rejects).';
comment on column sources.n_furniture_lines is 'Page furniture: headers, separators, blank lines between records.';
comment on column sources.n_record_lines is 'Lines of records: their spans, less the lines quarantined alone inside them (a stray line where a field belongs).';
comment on column sources.encoding is 'Text encoding the file was read in.';
comment on column sources.format_reason is 'Why the format was chosen (detector''s reason).';
comment on column sources.notes is 'Anything noted while reading the file (encoding repairs, read errors).';
