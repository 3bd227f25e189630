-- authors: one row per person, by normalised name. Key: author_id.
-- Reads: lake.authors_data.
create or replace view authors as
select author_id, name, n_papers
from lake.authors_data;

comment on view authors is 'One row per author, resolved by normalised Given Family name; name is the most frequent printed form. Key: author_id.';

comment on column authors.author_id is 'Stable id of the person: aut_ + 16 hex digits of MD5 of the normalised name. Key.';
comment on column authors.name is 'Display name, Given Family, in the form printed most often.';
comment on column authors.n_papers is 'How many times the name is printed across the linked papers'' author lists (cut lists count only printed names).';
