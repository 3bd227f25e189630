-- paper_matches: one row per compared record pair that scored at or above the
-- floor (or was decided by a human override), with the evidence and the
-- decision: merged, review (for a human) or apart.
-- Key: (record_id_a, record_id_b), record_id_a sorting before record_id_b in
-- file order. Reads: lake.paper_matches.
create or replace view paper_matches as
select record_id_a, record_id_b, score, title_similarity, shared_authors,
       date_gap_days, rule, decision
from lake.paper_matches;

comment on view paper_matches is 'Compared record pairs above the score floor: score, title similarity, shared printed authors, date gap, the rule that decided, and the decision (merged, review, apart). Key: (record_id_a, record_id_b).';
