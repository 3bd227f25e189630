-- paper_matches: one row per compared record pair that scored at or above the
-- floor (or was decided by a human override), with the evidence and the
-- decision: merged, review (for a human) or apart.
-- Key: (record_id_a, record_id_b), record_id_a sorting before record_id_b in
-- file order. Reads: lake.paper_matches_data.
create or replace view paper_matches as
select record_id_a, record_id_b, score, title_similarity, shared_authors,
       date_gap_days, rule, decision
from lake.paper_matches_data;

comment on view paper_matches is 'Compared record pairs above the score floor: score, title similarity, shared printed authors, date gap, the rule that decided, and the decision (merged, review, apart). Key: (record_id_a, record_id_b).';

comment on column paper_matches.record_id_a is 'One record of the pair (records.record_id), the one earlier in file order. Key with record_id_b.';
comment on column paper_matches.record_id_b is 'The other record of the pair. Key with record_id_a.';
comment on column paper_matches.score is 'Match score 0..1: title similarity plus a bonus for a shared printed author, minus maluses for printed authors sharing nobody and for dates far apart.';
comment on column paper_matches.title_similarity is 'Similarity of the two normalised titles, 0..1 (rapidfuzz ratio).';
comment on column paper_matches.shared_authors is 'Printed authors both records share; null when either prints no names.';
comment on column paper_matches.date_gap_days is 'Days between the two records'' dates; null when either has none.';
comment on column paper_matches.rule is 'The rule or evidence that decided the pair (or the human override).';
comment on column paper_matches.decision is 'merged (one paper), review (for a human to decide; kept apart) or apart.';
