-- verify-restore, run in each database where the amcheck extension is available: the B-tree indexes to
-- check with bt_index_check (largest last, so that a time budget checks as many as it can).
SELECT c.oid::regclass::text
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE am.amname = 'btree' AND i.indisvalid AND c.relpersistence <> 't'
ORDER BY pg_relation_size(c.oid), 1
