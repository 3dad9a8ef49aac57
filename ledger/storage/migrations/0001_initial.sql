-- The ledger: one append-only log of canonical leaves (see ledger/FORMAT.md).
CREATE TABLE entry (
    seq INTEGER PRIMARY KEY,
    leaf BLOB NOT NULL,
    leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
);

-- Mistakes, not attackers, are stopped here: tamper evidence comes from the hashes.
CREATE TRIGGER entry_append_only_update BEFORE UPDATE ON entry
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: an entry cannot be changed; record a correction instead');
END;

CREATE TRIGGER entry_append_only_delete BEFORE DELETE ON entry
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: an entry cannot be deleted; record a void instead');
END;

CREATE TRIGGER entry_next_seq_only BEFORE INSERT ON entry
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM entry)
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: a new entry must take the next seq');
END;

-- The Merkle tree (RFC 9162) over the leaf hashes: the root of every complete aligned subtree of
-- 2^level leaves [idx * 2^level, (idx + 1) * 2^level), level >= 8, written with the entry that
-- completes it; rebuilt by `disclosure-ledger rebuild`, checked by `verify`. Proofs read them.
CREATE TABLE merkle_node (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Projections: rebuilt from the entries by `disclosure-ledger rebuild`, checked by `verify`.
CREATE TABLE party (
    party_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL,
    address TEXT NOT NULL,
    representative TEXT,
    contact TEXT,
    registered_seq INTEGER NOT NULL,
    version_seq INTEGER NOT NULL,
    version INTEGER NOT NULL
);

CREATE TABLE party_version (
    seq INTEGER PRIMARY KEY,
    party_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL,
    address TEXT NOT NULL,
    representative TEXT,
    contact TEXT,
    reason TEXT
);
CREATE INDEX party_version_by_party ON party_version (party_id, seq);

CREATE TABLE disclosure (
    seq INTEGER PRIMARY KEY,
    recipient_id TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    bulk INTEGER NOT NULL,
    subject_count INTEGER NOT NULL,
    group_count INTEGER,
    data_items TEXT NOT NULL,
    purpose TEXT NOT NULL,
    basis TEXT NOT NULL,
    country TEXT NOT NULL,
    route TEXT,
    method TEXT,
    contract_as_record INTEGER NOT NULL,
    statutory INTEGER NOT NULL,
    statutory_ground TEXT NOT NULL,
    retention_until TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_change_seq INTEGER,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    assessment_seq INTEGER,
    override INTEGER NOT NULL
);
CREATE INDEX disclosure_by_recipient ON disclosure (recipient_id, seq);
CREATE INDEX disclosure_by_basis ON disclosure (basis, seq);
CREATE INDEX disclosure_by_last_day ON disclosure (last_day);
CREATE INDEX disclosure_by_retention ON disclosure (retention_until);

CREATE TABLE disclosure_subject (
    disclosure_seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    commitment TEXT NOT NULL,
    PRIMARY KEY (disclosure_seq, position)
) WITHOUT ROWID;

CREATE TABLE disclosure_change (
    seq INTEGER PRIMARY KEY,
    disclosure_seq INTEGER NOT NULL,
    action TEXT NOT NULL,
    fields TEXT NOT NULL,
    reason_commitment TEXT NOT NULL
);
CREATE INDEX disclosure_change_by_disclosure ON disclosure_change (disclosure_seq, seq);

-- The contractor register (APPI Art. 25): the current record per contractor, and its history.
CREATE TABLE contractor (
    party_id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    data_items TEXT NOT NULL,
    contract_reference TEXT,
    contract_signed_on TEXT,
    contract_ends_on TEXT,
    contract_clauses TEXT NOT NULL,
    certifications TEXT NOT NULL,
    works_for TEXT,
    engagement_approved INTEGER NOT NULL,
    equivalent_measures INTEGER NOT NULL,
    measures_checked_on TEXT,
    version INTEGER NOT NULL,
    version_seq INTEGER NOT NULL
);

CREATE TABLE contractor_version (
    seq INTEGER PRIMARY KEY,
    party_id TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX contractor_version_by_party ON contractor_version (party_id, seq);

CREATE TABLE assessment (
    seq INTEGER PRIMARY KEY,
    party_id TEXT NOT NULL,
    assessor TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    score INTEGER NOT NULL,
    derived_outcome TEXT NOT NULL,
    outcome TEXT NOT NULL,
    overridden INTEGER NOT NULL,
    condition_deadline TEXT,
    valid_until TEXT NOT NULL,
    next_review TEXT NOT NULL
);
CREATE INDEX assessment_by_party ON assessment (party_id, seq);

CREATE TABLE erasure (
    seq INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    commitment_count INTEGER NOT NULL
);

CREATE TABLE erased_commitment (
    commitment TEXT PRIMARY KEY,
    erasure_seq INTEGER NOT NULL
) WITHOUT ROWID;

-- The redactable vault: plaintext personal data, bound to leaves by salted commitments.
-- Its rows are deleted only by an erasure entry; nothing else here is ever deleted.
-- Keyed by entry so appends write at the end; found by value for a subject's lookup and erasure.
CREATE TABLE vault (
    entry_seq INTEGER NOT NULL,
    commitment TEXT NOT NULL,
    field TEXT NOT NULL,
    salt BLOB NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (entry_seq, commitment)
) WITHOUT ROWID;
CREATE INDEX vault_by_value ON vault (value, field);

-- When `verify` ran and what it found: a log for the dashboard, not part of the ledger.
CREATE TABLE verification_log (
    id INTEGER PRIMARY KEY,
    verified_at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    first_bad_seq INTEGER,
    problems INTEGER NOT NULL
);
