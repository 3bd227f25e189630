-- paper_field_sources: one row per (paper, field): which record supplied the
-- paper's value of that field and by which rule. Affiliations are the union
-- of all records and have no single source. Key: (paper_id, field).
-- Reads: lake.paper_field_sources.
create or replace view paper_field_sources as
select paper_id, field, record_id, rule
from lake.paper_field_sources;

comment on view paper_field_sources is 'Provenance of merged paper fields: for each paper and field, the record that supplied the value and the rule that chose it. Key: (paper_id, field).';
