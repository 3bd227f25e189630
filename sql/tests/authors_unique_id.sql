-- Rule: author_id is unique in authors.
select author_id, count(*) as n from authors group by author_id having count(*) > 1;
