-- verify-restore, run in each database: catalog sanity. Every row returned is a problem.
SELECT 'invalid index ' || indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid
UNION ALL
SELECT 'the catalog has no relations' WHERE NOT EXISTS (SELECT 1 FROM pg_class)
UNION ALL
SELECT 'relation ' || c.oid::regclass::text || ' has no attributes'
FROM pg_class c WHERE c.relkind IN ('r', 'm') AND c.relnatts > 0
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0)
