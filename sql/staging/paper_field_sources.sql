-- paper_field_sources: one row per (paper, field): which record supplied the
-- paper's value of that field and by which rule. Affiliations are the union
-- of all records and have no single source. Key: (paper_id, field).
-- Reads: lake.paper_field_sources_data.
create or replace view paper_field_sources as
select paper_id, field, record_id, rule
from lake.paper_field_sources_data;

comment on view paper_field_sources is 'Provenance of merged paper fields: for each paper and field, the record that supplied the value and the rule that chose it. Key: (paper_id, field).';

comment on column paper_field_sources.paper_id is 'The paper (papers.paper_id). Key with field.';
comment on column paper_field_sources.field is 'The papers column whose value is explained (title, abstract, published_date, ...). Key with paper_id.';
comment on column paper_field_sources.record_id is 'The record that supplied the value (records.record_id).';
comment on column paper_field_sources.rule is 'The rule that chose that record.';
