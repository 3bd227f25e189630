-- Rule: author positions of a paper are 1..n without gaps or repeats.
select paper_id, count(*) as n, max(author_position) as max_position
from paper_authors
group by paper_id
having count(*) <> max(author_position) or count(distinct author_position) <> count(*);
