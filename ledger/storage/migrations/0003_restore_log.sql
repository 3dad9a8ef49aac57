-- Each time this file was put in place by `disclosure-ledger restore`: from which backup, what it
-- replaced (kept beside it, never deleted), and why, when the restore had to be forced.
CREATE TABLE restore_log (
    id INTEGER PRIMARY KEY,
    restored_at TEXT NOT NULL,
    restored_by TEXT NOT NULL,
    source TEXT NOT NULL,
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    replaced_size INTEGER,
    replaced_root TEXT,
    replaced_kept_at TEXT,
    forced INTEGER NOT NULL,
    reason TEXT,
    refused_because TEXT
);

CREATE TRIGGER restore_log_append_only_update BEFORE UPDATE ON restore_log
BEGIN
    SELECT RAISE(ABORT, 'the restore log is append-only');
END;

CREATE TRIGGER restore_log_append_only_delete BEFORE DELETE ON restore_log
BEGIN
    SELECT RAISE(ABORT, 'the restore log is append-only');
END;
