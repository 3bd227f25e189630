-- paper_topics: one row per (paper, topic, method): why a paper carries a
-- topic. A paper can carry several topics, and one topic by both methods.
-- Key: (paper_id, topic, method). Reads: lake.paper_topics_data.
create or replace view paper_topics as
select paper_id, topic, method, evidence
from lake.paper_topics_data;

comment on view paper_topics is 'Topics of each paper. method keyword: the topic regex matched the title or abstract; method category: the paper''s printed arXiv category implies the topic. Key: (paper_id, topic, method).';
comment on column paper_topics.paper_id is 'The paper (papers.paper_id).';
comment on column paper_topics.topic is 'The topic (topics.topic).';
comment on column paper_topics.method is 'How the topic was assigned: keyword or category.';
comment on column paper_topics.evidence is 'The text the regex matched (first 80 characters), or the category id.';
