-- The least privileges Cellar needs on a PostgreSQL server (13 and newer), for a role that is
-- not a superuser. Run it as a superuser:
--
--   psql -d postgres -v cellar_role=cellar -f backup-role.sql
--
-- Creates the role (LOGIN, no password: set one with \password, or use peer/cert auth) when it
-- does not exist, then grants:
--   * EXECUTE on the backup functions (pg_backup_start/pg_backup_stop on 15+,
--     pg_start_backup/pg_stop_backup on 13-14), pg_switch_wal and pg_create_restore_point;
--   * pg_read_all_settings (archive_command, data_directory) and pg_read_all_stats
--     (pg_stat_archiver), which `cellar check` reads.
-- Base backups also read the data directory: run Cellar as an OS user that can read it
-- (e.g. in the postgres group with group read access, initdb --allow-group-access).
\set ON_ERROR_STOP on
\if :{?cellar_role}
\else
  \set cellar_role cellar
\endif

SELECT format('CREATE ROLE %I LOGIN', :'cellar_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'cellar_role') \gexec

SELECT format('GRANT EXECUTE ON FUNCTION %s TO %I', f, :'cellar_role')
  FROM unnest(CASE WHEN current_setting('server_version_num')::int >= 150000
                   THEN ARRAY['pg_backup_start(text, boolean)', 'pg_backup_stop(boolean)']
                   ELSE ARRAY['pg_start_backup(text, boolean, boolean)', 'pg_stop_backup(boolean, boolean)']
              END || ARRAY['pg_switch_wal()', 'pg_create_restore_point(text)']) AS f \gexec

GRANT pg_read_all_settings, pg_read_all_stats TO :"cellar_role";
