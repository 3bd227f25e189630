-- author_summary: one row per author: output, active years, co-authors and
-- what they work on. Key: author_id.
-- Reads: author_activity, author_network.
-- Materialized: no (author_activity's stored rows beside the author's
-- author_network row, joined when read: the network's communities are
-- renumbered over the whole graph, so stored rows would be recomputed for
-- every author on every change; one row per author, cheap to join;
-- unordered, so that a filtered query sorts nothing).
create or replace view author_summary as
select
    a.author_id,
    a.name,
    a.n_papers,
    a.n_dated_papers,
    a.first_year,
    a.last_year,
    coalesce(n.degree, 0)::bigint as n_coauthors,
    n.weighted_degree as coauthor_strength,
    a.top_category_id,
    a.top_category_name,
    a.top_topic,
    a.n_papers_truncated,
    n.component_id,
    n.community_id
from author_activity a
left join author_network n using (author_id);

comment on view author_summary is 'One row per author: papers, first and last year, co-authors, main category and topic, network position. Co-author figures count printed names only; papers with a cut list (n_papers_truncated) hide co-authors, so n_coauthors is a lower bound. Key: author_id.';
comment on column author_summary.author_id is 'The author (authors.author_id). Key.';
comment on column author_summary.name is 'Display name, Given Family.';
comment on column author_summary.n_papers is 'Papers on whose printed author list the author appears.';
comment on column author_summary.n_dated_papers is 'Of those, papers with a known year.';
comment on column author_summary.first_year is 'Year of the author''s first dated paper; null when none is dated.';
comment on column author_summary.last_year is 'Year of the author''s last dated paper; null when none is dated.';
comment on column author_summary.n_coauthors is 'Distinct printed co-authors (author_network.degree); a lower bound where lists were cut.';
comment on column author_summary.coauthor_strength is 'Sum of fractional co-author weights (author_network.weighted_degree).';
comment on column author_summary.top_category_id is 'arXiv category of most of the author''s categorised papers (ties: smallest id); null when none is categorised.';
comment on column author_summary.top_category_name is 'Name of top_category_id.';
comment on column author_summary.top_topic is 'Topic of most of the author''s papers (ties: alphabetical); null when no paper has a topic.';
comment on column author_summary.n_papers_truncated is 'The author''s papers whose author list was cut: their co-authors there are partly unknown.';
comment on column author_summary.component_id is 'Co-author component (author_network.component_id).';
comment on column author_summary.community_id is 'Co-author community (author_network.community_id).';
