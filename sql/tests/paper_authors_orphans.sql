-- Rule: every paper_authors row names an existing paper and author.
select pa.*
from paper_authors pa
left join papers p using (paper_id)
left join authors a using (author_id)
where p.paper_id is null or a.author_id is null;
