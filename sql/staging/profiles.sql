-- profiles: one row per input file with the facts its page header printed
-- (profile owner, h-index, counts; the listing date of a daily listing).
-- Key: source_file. Reads: lake.profiles_data.
create or replace view profiles as
select
    source_file,
    format,
    owner_name,
    primary_category,
    h_index,
    paper_count,
    citation_count,
    novelty_pct,
    ai_score,
    listed_paper_count,
    listing_date_text,
    listing_date
from lake.profiles_data;

comment on view profiles is 'Page-header facts per input file: profile owner (Given Family), primary category, h-index, paper and citation counts, novelty and AI score; listing date for daily listings. Key: source_file.';

comment on column profiles.source_file is 'Input file, relative to the raw folder. Key.';
comment on column profiles.format is 'Detected dump format of the file.';
comment on column profiles.owner_name is 'Profile owner, Given Family; null when the page prints no owner.';
comment on column profiles.primary_category is 'Owner''s primary arXiv category code as printed, e.g. LG.';
comment on column profiles.h_index is 'h-index printed in the header.';
comment on column profiles.paper_count is 'Paper count printed in the header (14papers).';
comment on column profiles.citation_count is 'Citation count printed in the header.';
comment on column profiles.novelty_pct is 'Novelty percentage printed in the header.';
comment on column profiles.ai_score is 'AI Score printed in the header.';
comment on column profiles.listed_paper_count is 'Count printed above the paper list (14 Papers).';
comment on column profiles.listing_date_text is 'Daily listing: the day shown, as printed.';
comment on column profiles.listing_date is 'Daily listing: the day shown, resolved against the capture date.';
