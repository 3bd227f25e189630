-- paper_sources: one row per record, naming the paper it was linked into.
-- Key: (source_file, record_index). Reads: lake.paper_sources.
create or replace view paper_sources as
select paper_id, source_file, record_index, record_id
from lake.paper_sources;

comment on view paper_sources is 'Which records make up each paper. Key: (source_file, record_index).';
