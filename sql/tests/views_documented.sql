-- Rule: every view and every view column carries a comment, so BI tools and
-- the data dictionary describe each field.
select 'view' as kind, v.view_name, null as column_name
from duckdb_views() v
where not v.internal and v.database_name = current_database() and coalesce(v.comment, '') = ''
union all
select 'column', v.view_name, c.column_name
from duckdb_views() v
join duckdb_columns() c on c.table_oid = v.view_oid
where not v.internal and v.database_name = current_database() and coalesce(c.comment, '') = '';
