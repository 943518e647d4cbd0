-- Migration 0002: generation options and metadata of each image, and its renditions
-- (CONTRACT.md §6). Rows of earlier releases get NULL: nothing was recorded then;
-- `pixyproxy renditions` fills in width, height and blurhash from the stored bytes.
ALTER TABLE images
    ADD COLUMN model          VARCHAR(64)  NULL,
    ADD COLUMN size           VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN quality        VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN revised_prompt TEXT         NULL,
    ADD COLUMN input_tokens   INT          NULL,
    ADD COLUMN output_tokens  INT          NULL,
    ADD COLUMN total_tokens   INT          NULL,
    ADD COLUMN width          INT          NULL,
    ADD COLUMN height         INT          NULL,
    ADD COLUMN blurhash       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL;

-- One row per rendition made (thumbnail, preview): its blob and what its bytes are,
-- so that ETag, Content-Length and 304 come from the database. Deleted with the image.
CREATE TABLE image_renditions (
    image_id     BIGINT       NOT NULL,
    kind         VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    storage_key  VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
    content_type VARCHAR(100) NOT NULL,
    size_bytes   BIGINT       NOT NULL,
    sha256       CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    width        INT          NOT NULL,
    height       INT          NOT NULL,
    created_at   DATETIME(6)  NOT NULL,
    PRIMARY KEY (image_id, kind),
    -- reconciliation: which blobs does some row reference
    KEY ix_image_renditions_storage_key (storage_key),
    CONSTRAINT fk_image_renditions_image FOREIGN KEY (image_id)
        REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
