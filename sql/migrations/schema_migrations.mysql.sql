-- The table that records which migrations of sql/migrations/mysql/ were applied.
-- Created before the first migration runs; it is not a migration itself.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INT          NOT NULL,
    name       VARCHAR(200) NOT NULL,
    checksum   CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    applied_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
