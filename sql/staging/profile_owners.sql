-- profile_owners: one row per profile page that names its owner, with the
-- owner's author_id found by the name key authors are linked on.
-- Key: source_file. Reads: lake.profile_owners_data.
create or replace view profile_owners as
select source_file, owner_name, author_id
from lake.profile_owners_data;

comment on view profile_owners is 'The owner of each profile page as an author of the warehouse. Key: source_file.';
comment on column profile_owners.source_file is 'Input file of the profile page. Key.';
comment on column profile_owners.owner_name is 'Owner as printed in the page header, Given Family.';
comment on column profile_owners.author_id is 'The owner in authors; null when no printed author list names them.';
