-- Migration 0003: search by prompt words (CONTRACT.md §6 "Search"), an FTS5 index over
-- images.prompt as an external-content table (the text stays in images only), queried
-- with prefix terms ('"fox"* "red"*'). Triggers keep it in step with every insert,
-- delete and (never made today) prompt update; 'rebuild' indexes the existing rows.
CREATE VIRTUAL TABLE images_fts USING fts5(
    prompt,
    content = 'images',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);

CREATE TRIGGER images_fts_after_insert AFTER INSERT ON images BEGIN
    INSERT INTO images_fts (rowid, prompt) VALUES (new.id, new.prompt);
END;

CREATE TRIGGER images_fts_after_delete AFTER DELETE ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
END;

CREATE TRIGGER images_fts_after_update AFTER UPDATE OF prompt ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
    INSERT INTO images_fts (rowid, prompt) VALUES (new.id, new.prompt);
END;

INSERT INTO images_fts (images_fts) VALUES ('rebuild');
