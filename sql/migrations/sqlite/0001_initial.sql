-- Migration 0001: the first release's embedded tables (SQLite's dialect of sql/003_tables.sql).
-- Datetimes are UTC text YYYY-MM-DD HH:MM:SS.ffffff (fixed width, so text order is time order).
-- Text compares binary, like the MySQL columns' binary collations. AUTOINCREMENT: ids never reused.
CREATE TABLE IF NOT EXISTS images (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guid         TEXT    NOT NULL UNIQUE,
    prompt       TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    author       TEXT    NULL,
    is_private   INTEGER NOT NULL DEFAULT 0,
    storage_key  TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_images_visibility_newest ON images (is_private, created_at, id);
CREATE INDEX IF NOT EXISTS ix_images_author_newest
    ON images (author, is_private, created_at, id);
CREATE INDEX IF NOT EXISTS ix_images_storage_key ON images (storage_key);

CREATE TABLE IF NOT EXISTS image_tags (
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    tag      TEXT    NOT NULL,
    ordinal  INTEGER NOT NULL DEFAULT 0,
    is_private INTEGER NOT NULL DEFAULT 0,  -- copies of the image's, for tag listings
    created_at TEXT    NOT NULL,
    PRIMARY KEY (image_id, tag)
);
CREATE INDEX IF NOT EXISTS ix_image_tags_tag
    ON image_tags (tag, is_private, created_at, image_id);

CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    scope           TEXT NOT NULL,
    caller          TEXT NOT NULL,  -- username, or '' when anonymous
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status          TEXT NOT NULL,
    image_guid      TEXT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    UNIQUE (scope, caller, idempotency_key)
);
CREATE INDEX IF NOT EXISTS ix_idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE IF NOT EXISTS rate_counters (
    bucket       TEXT    NOT NULL PRIMARY KEY,
    window_start TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    hits         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_rate_counters_expires ON rate_counters (expires_at);
