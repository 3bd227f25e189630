-- profiles: one row per input file with the facts its page header printed
-- (profile owner, h-index, counts; the listing date of a daily listing).
-- Key: source_file. Reads: lake.profiles.
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
from lake.profiles;

comment on view profiles is 'Page-header facts per input file: profile owner (Given Family), primary category, h-index, paper and citation counts, novelty and AI score; listing date for daily listings. Key: source_file.';
