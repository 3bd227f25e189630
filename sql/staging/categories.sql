-- categories: one row per arXiv category code, from the shipped taxonomy
-- (pipelines/data/arxiv_categories.csv, or raw/arxiv_categories.csv) plus
-- every code printed in the dumps that the taxonomy lacks, flagged unknown.
-- Key: category_code. Reads: lake.categories_data.
create or replace view categories as
select category_code, category_id, category_name, archive, group_name, also_means, is_known
from lake.categories_data;

comment on view categories is 'arXiv categories by the code the pages print (LG -> cs.LG Machine Learning, QUANT-PH -> quant-ph, AS -> eess.AS). Codes printed but missing from the taxonomy are kept with is_known false. Key: category_code.';
comment on column categories.category_code is 'The code as printed, e.g. LG, QUANT-PH. Key; papers.category joins here.';
comment on column categories.category_id is 'arXiv category id (cs.LG, quant-ph); the printed code itself when the code is unknown.';
comment on column categories.category_name is 'arXiv''s name of the category; null when the code is unknown.';
comment on column categories.archive is 'arXiv archive of the category (cs, eess, quant-ph, ...).';
comment on column categories.group_name is 'arXiv subject group of the archive (Computer Science, Physics, ...).';
comment on column categories.also_means is 'Other arXiv categories printing the same bare code (space-separated); the code is read as category_id, see the taxonomy file for why.';
comment on column categories.is_known is 'False for a printed code the taxonomy does not list: kept, not dropped.';
