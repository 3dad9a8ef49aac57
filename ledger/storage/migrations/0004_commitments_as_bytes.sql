-- Salted commitments are kept in the vault and in disclosure_subject as their 32 bytes instead of
-- 64 hex digits (the leaves still hold the hex), and only subjects are indexed by value, since
-- only a subject's identifier is ever looked up: the vault and its index take about half the
-- space. unhex() is SQLite's own from 3.41, or the same function supplied by the program.
CREATE TABLE vault_as_bytes (
    entry_seq INTEGER NOT NULL,
    commitment BLOB NOT NULL,
    field TEXT NOT NULL,
    salt BLOB NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (entry_seq, commitment)
) WITHOUT ROWID;
INSERT INTO vault_as_bytes (entry_seq, commitment, field, salt, value)
    SELECT entry_seq, unhex(commitment), field, salt, value FROM vault ORDER BY entry_seq;
DROP TABLE vault;
ALTER TABLE vault_as_bytes RENAME TO vault;
CREATE INDEX vault_subject_by_value ON vault (value) WHERE field = 'subject';

CREATE TABLE disclosure_subject_as_bytes (
    disclosure_seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    commitment BLOB NOT NULL,
    PRIMARY KEY (disclosure_seq, position)
) WITHOUT ROWID;
INSERT INTO disclosure_subject_as_bytes (disclosure_seq, position, commitment)
    SELECT disclosure_seq, position, unhex(commitment) FROM disclosure_subject ORDER BY disclosure_seq, position;
DROP TABLE disclosure_subject;
ALTER TABLE disclosure_subject_as_bytes RENAME TO disclosure_subject;
