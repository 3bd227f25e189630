-- topics: one row per research topic of the keyword taxonomy
-- (pipelines/data/topics.toml, or raw/topics.toml).
-- Key: topic. Reads: lake.topics_data.
create or replace view topics as
select topic, topic_position, description, pattern, categories
from lake.topics_data;

comment on view topics is 'The research topics papers are tagged with: a regex over title and abstract, and arXiv categories that imply the topic. Key: topic.';
comment on column topics.topic is 'Topic name. Key.';
comment on column topics.topic_position is 'Order of the topic in the taxonomy file, for display.';
comment on column topics.description is 'What belongs in the topic.';
comment on column topics.pattern is 'The case-insensitive regex run over title and abstract (the file''s patterns joined with |); null when the topic is assigned by category only.';
comment on column topics.categories is 'arXiv category ids whose papers get the topic (method category).';
