-- paper_sources: one row per record, naming the paper it was linked into.
-- Key: (source_file, record_index). Reads: lake.paper_sources_data.
create or replace view paper_sources as
select paper_id, source_file, record_index, record_id
from lake.paper_sources_data;

comment on view paper_sources is 'Which records make up each paper. Key: (source_file, record_index).';

comment on column paper_sources.paper_id is 'The paper the record was linked into (papers.paper_id).';
comment on column paper_sources.source_file is 'Input file of the record, relative to the raw folder.';
comment on column paper_sources.record_index is '0-based order of the record in its file.';
comment on column paper_sources.record_id is 'The record as one string: <source_file>#<record_index>.';
