-- touched_authors: one row per (table, author) where a change to that table
-- can change the author's rows in an author-keyed analysis view (marts
-- declared "Incremental:"), in an incremental build. Key: none (repeats are
-- harmless). Reads: the temp tables changed_rows_<table> (what the rows
-- added to or removed from a table name: pipelines/view_updates.py),
-- paper_authors, papers.
-- A row naming an author touches that author (authors, author_network,
-- paper_authors before or after the change); a changed paper touches every
-- author printed on it (papers, paper_topics, paper_authors), and a changed
-- category every author printed on a paper of that category (categories).
create or replace temp table touched_authors as
select 'authors' as table_name, author_id from changed_rows_authors
union all
select 'author_network', author_id from changed_rows_author_network
union all
select 'paper_authors', author_id from changed_rows_paper_authors
union all
select 'paper_authors', author_id from paper_authors
where paper_id in (select paper_id from changed_rows_paper_authors)
union all
select 'papers', author_id from paper_authors
where paper_id in (select paper_id from changed_rows_papers)
union all
select 'paper_topics', author_id from paper_authors
where paper_id in (select paper_id from changed_rows_paper_topics)
union all
select 'categories', pa.author_id
from paper_authors pa
join papers p using (paper_id)
where p.category in (select category_code from changed_rows_categories);
