-- authors: one row per person, by normalised name. Key: author_id.
-- Reads: lake.authors.
create or replace view authors as
select author_id, name, n_papers
from lake.authors;

comment on view authors is 'One row per author, resolved by normalised Given Family name; name is the most frequent printed form. Key: author_id.';
