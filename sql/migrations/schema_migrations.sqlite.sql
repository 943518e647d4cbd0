-- The table that records which migrations of sql/migrations/sqlite/ were applied.
-- Created before the first migration runs; it is not a migration itself.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at TEXT    NOT NULL
);
