-- Rule: profile_summary has a row for every profile page with an owner, and
-- its owner counts agree with author_activity (author_summary's counts).
select 'missing' as problem, po.source_file, null as got, null as expected
from profile_owners po left join profile_summary ps using (source_file)
where ps.source_file is null
union all
select 'owner papers', ps.source_file, ps.owner_n_papers, coalesce(s.n_papers, 0)
from profile_summary ps
left join author_activity s on s.author_id = ps.owner_author_id
where ps.owner_n_papers <> coalesce(s.n_papers, 0)
   or ps.n_papers_in_file_owner_printed > ps.owner_n_papers
   or ps.n_papers_in_file_owner_printed > ps.n_papers_in_file;
