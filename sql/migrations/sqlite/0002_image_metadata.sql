-- Migration 0002: generation options and metadata of each image, and its renditions
-- (CONTRACT.md §6). Rows of earlier releases get NULL: nothing was recorded then;
-- `pixyproxy renditions` fills in width, height and blurhash from the stored bytes.
ALTER TABLE images ADD COLUMN model          TEXT    NULL;
ALTER TABLE images ADD COLUMN size           TEXT    NULL;
ALTER TABLE images ADD COLUMN quality        TEXT    NULL;
ALTER TABLE images ADD COLUMN revised_prompt TEXT    NULL;
ALTER TABLE images ADD COLUMN input_tokens   INTEGER NULL;
ALTER TABLE images ADD COLUMN output_tokens  INTEGER NULL;
ALTER TABLE images ADD COLUMN total_tokens   INTEGER NULL;
ALTER TABLE images ADD COLUMN width          INTEGER NULL;
ALTER TABLE images ADD COLUMN height         INTEGER NULL;
ALTER TABLE images ADD COLUMN blurhash       TEXT    NULL;

-- One row per rendition made (thumbnail, preview): its blob and what its bytes are,
-- so that ETag, Content-Length and 304 come from the database. Deleted with the image.
CREATE TABLE image_renditions (
    image_id     INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    storage_key  TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (image_id, kind)
);
CREATE INDEX ix_image_renditions_storage_key ON image_renditions (storage_key);
