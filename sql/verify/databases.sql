-- verify-restore: the databases to check (every one that accepts connections).
SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname
