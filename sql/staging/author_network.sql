-- author_network: one row per author with co-author graph measures,
-- computed once per refresh with networkx (pipelines/transform/network.py).
-- Key: author_id. Reads: lake.author_network_data.
create or replace view author_network as
select
    author_id,
    degree,
    weighted_degree,
    component_id,
    component_size,
    community_id,
    community_size
from lake.author_network_data;

comment on view author_network is 'Co-author graph measures per author (every author, also those without co-authors). Edges join authors printed on a common paper, weighted 1/(n-1) per paper with n printed authors. Cut author lists (et al.) hide co-authors, so degrees are lower bounds. Key: author_id.';
comment on column author_network.author_id is 'The author (authors.author_id). Key.';
comment on column author_network.degree is 'Number of distinct printed co-authors.';
comment on column author_network.weighted_degree is 'Sum over co-authors of the fractional weight (1/(n-1) per shared paper with n printed authors): the number of multi-author papers when lists are complete.';
comment on column author_network.component_id is 'Connected component, numbered from 1 by size (largest first), ties by smallest author_id.';
comment on column author_network.component_size is 'Authors in the component.';
comment on column author_network.community_id is 'Leiden modularity community, found in each connected component on its own (igraph, seeded per component, deterministic), numbered from 1 by size; always inside one component.';
comment on column author_network.community_size is 'Authors in the community.';
