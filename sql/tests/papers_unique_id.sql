-- Rule: paper_id is unique in papers.
select paper_id, count(*) as n from papers group by paper_id having count(*) > 1;
