-- Signed checkpoints (C2SP tlog-checkpoint notes) and the public halves of the keys that sign
-- them. The private keys live in files outside the ledger. Neither table is part of the hash
-- chain: a checkpoint held outside the file is what proves the ledger was not shortened or
-- rewritten; these copies let `verify` check the ledger against its own history.

-- One row per signing key, oldest first; the latest row is the key that signs now.
CREATE TABLE signing_key (
    id INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE CHECK (length(key_id) = 8),
    verifier_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE checkpoint (
    id INTEGER PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    key_id TEXT NOT NULL,
    note TEXT NOT NULL,
    made_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX checkpoint_by_size ON checkpoint (size);

-- Each time a checkpoint left the ledger (`checkpoint export`, a report, a query package).
CREATE TABLE checkpoint_export (
    id INTEGER PRIMARY KEY,
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoint (id),
    exported_at TEXT NOT NULL,
    destination TEXT NOT NULL
);

CREATE TRIGGER signing_key_append_only_update BEFORE UPDATE ON signing_key
BEGIN
    SELECT RAISE(ABORT, 'signing keys are kept for good: rotate to a new key instead');
END;

CREATE TRIGGER signing_key_append_only_delete BEFORE DELETE ON signing_key
BEGIN
    SELECT RAISE(ABORT, 'signing keys are kept for good: old checkpoints are verified with them');
END;

CREATE TRIGGER checkpoint_append_only_update BEFORE UPDATE ON checkpoint
BEGIN
    SELECT RAISE(ABORT, 'a checkpoint cannot be changed: make a new one');
END;

CREATE TRIGGER checkpoint_append_only_delete BEFORE DELETE ON checkpoint
BEGIN
    SELECT RAISE(ABORT, 'a checkpoint cannot be deleted');
END;

CREATE TRIGGER checkpoint_export_append_only_update BEFORE UPDATE ON checkpoint_export
BEGIN
    SELECT RAISE(ABORT, 'the export log is append-only');
END;

CREATE TRIGGER checkpoint_export_append_only_delete BEFORE DELETE ON checkpoint_export
BEGIN
    SELECT RAISE(ABORT, 'the export log is append-only');
END;
