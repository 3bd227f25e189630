-- paper_authors: one row per (paper, author), with the 1-based position in
-- the paper's best author list. Key: (paper_id, author_id).
-- Reads: lake.paper_authors_data.
create or replace view paper_authors as
select paper_id, author_id, author_position
from lake.paper_authors_data;

comment on view paper_authors is 'Who wrote which paper, in printed order (author_position from 1). Cut lists (et al.) hold only the printed names. Key: (paper_id, author_id).';

comment on column paper_authors.paper_id is 'The paper (papers.paper_id).';
comment on column paper_authors.author_id is 'The author (authors.author_id).';
comment on column paper_authors.author_position is 'Position in the paper''s printed author list, from 1.';
