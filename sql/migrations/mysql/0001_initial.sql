-- Migration 0001: the first release's tables (sql/003_tables.sql without its USE).
-- A database made by that release already has them; IF NOT EXISTS makes this a no-op there.
CREATE TABLE IF NOT EXISTS images (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    guid         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    prompt       TEXT         NOT NULL,
    filename     VARCHAR(255) NOT NULL,
    content_type VARCHAR(100) NOT NULL,
    size_bytes   BIGINT       NOT NULL,
    sha256       CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    author       VARCHAR(64)  COLLATE utf8mb4_bin NULL,
    is_private   TINYINT(1)   NOT NULL DEFAULT 0,
    storage_key  VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
    created_at   DATETIME(6)  NOT NULL,
    updated_at   DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_images_guid (guid),
    -- newest-first listing of public rows: WHERE is_private = 0 ORDER BY created_at, id
    KEY ix_images_visibility_newest (is_private, created_at, id),
    -- an owner's private rows, and the public author filter
    KEY ix_images_author_newest (author, is_private, created_at, id),
    -- reconciliation: which blobs does some row reference
    KEY ix_images_storage_key (storage_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS image_tags (
    image_id BIGINT      NOT NULL,
    tag      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    ordinal  SMALLINT    NOT NULL DEFAULT 0,  -- keeps the order the client gave
    -- copies of the image's is_private and created_at (both never change), so that a
    -- public tag listing is one range scan of ix_image_tags_tag in keyset order
    is_private TINYINT(1)  NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (image_id, tag),
    KEY ix_image_tags_tag (tag, is_private, created_at, image_id),
    CONSTRAINT fk_image_tags_image FOREIGN KEY (image_id)
        REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS users (
    id            BIGINT       NOT NULL AUTO_INCREMENT,
    username      VARCHAR(64)  COLLATE utf8mb4_bin NOT NULL,
    password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at    DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Idempotency-Key of POST /image and POST /private/image (service/idempotency.py): one
-- row per (scope, caller, key); 'pending' while the first request generates, then
-- 'completed' with the new image's guid, until expires_at (IDEMPOTENCY_TTL).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    id              BIGINT       NOT NULL AUTO_INCREMENT,
    scope           VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    caller          VARCHAR(64)  COLLATE utf8mb4_bin NOT NULL,  -- username, or '' when anonymous
    idempotency_key VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_hash    CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status          VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    image_guid      CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at      DATETIME(6)  NOT NULL,
    expires_at      DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_idempotency_keys_key (scope, caller, idempotency_key),
    KEY ix_idempotency_keys_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Rate limits (service/rate_limit.py), shared by every worker and replica: one row per
-- bucket ('login-ip:<address>', 'login-user:<sha256 of the name>', 'create-ip:<address>')
-- holding a fixed window that starts at the bucket's first event. Rows whose window expired are
-- deleted now and then by the service.
CREATE TABLE IF NOT EXISTS rate_counters (
    bucket       VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    window_start DATETIME(6)  NOT NULL,
    expires_at   DATETIME(6)  NOT NULL,
    hits         INT          NOT NULL,
    PRIMARY KEY (bucket),
    KEY ix_rate_counters_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
