"""Query tables as projections of the entries: one function writes them, for
appends, for `rebuild`, and for `verify` (which rebuilds into a scratch file and compares)."""

from __future__ import annotations

import sqlite3

from ..chain.encoding import canonical_json

ENTRY_KINDS = frozenset({
    "ledger.created", "party.registered", "party.changed", "contractor.recorded",
    "assessment.recorded", "disclosure.recorded", "disclosure.corrected", "disclosure.voided",
    "subject.erased",
})

PROJECTION_TABLE_NAMES = (
    "party",
    "party_version",
    "disclosure",
    "disclosure_subject",
    "disclosure_change",
    "contractor",
    "contractor_version",
    "assessment",
    "erasure",
    "erased_commitment",
)

_PARTY_FIELDS = ("name", "kind", "country", "address", "representative", "contact")


def disclosure_columns(body: dict) -> dict:
    """Columns of the disclosure table for the body keys present (a full body or a correction's changes)."""
    cols: dict = {}
    if "recipient" in body:
        cols["recipient_id"] = body["recipient"]
    if "recipient_country" in body:
        cols["country"] = body["recipient_country"]
    for key in ("first_day", "last_day", "purpose", "basis", "method", "retention_until"):
        if key in body:
            cols[key] = body[key]
    if "bulk" in body:
        cols["bulk"] = int(body["bulk"])
    if "contract_as_record" in body:
        cols["contract_as_record"] = int(body["contract_as_record"])
    if "subjects" in body:
        subjects = body["subjects"]
        if "group" in subjects:
            cols["subject_count"] = subjects["group"]["count"]
            cols["group_count"] = subjects["group"]["count"]
        else:
            cols["subject_count"] = len(subjects["identified"])
            cols["group_count"] = None
    if "data_items" in body:
        cols["data_items"] = canonical_json(body["data_items"]).decode("utf-8")
    if "cross_border" in body:
        cols["route"] = body["cross_border"]["route"] if body["cross_border"] else None
    if "gating" in body:
        gating = body["gating"] or {}
        cols["assessment_seq"] = gating.get("assessment")
        cols["override"] = int("override" in gating)
    if "statutory" in body:
        cols["statutory"] = int(body["statutory"]["required"])
        cols["statutory_ground"] = body["statutory"]["ground"]
    return cols


_DISCLOSURE_INSERT_COLUMNS = (
    "seq", "recipient_id", "country", "first_day", "last_day", "purpose", "basis", "method",
    "retention_until", "bulk", "contract_as_record", "subject_count", "group_count", "data_items",
    "route", "statutory", "statutory_ground", "status", "version", "last_change_seq",
    "recorded_at", "recorded_by", "assessment_seq", "override",
)
_DISCLOSURE_INSERT = (
    f"INSERT INTO disclosure ({', '.join(_DISCLOSURE_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_DISCLOSURE_INSERT_COLUMNS))})"
)


def _subject_rows(seq: int, subjects: dict) -> list[tuple]:
    identified = subjects.get("identified", [])
    return [(seq, i, bytes.fromhex(s["commitment"])) for i, s in enumerate(identified)]


_SUBJECT_INSERT = "INSERT INTO disclosure_subject (disclosure_seq, position, commitment) VALUES (?, ?, ?)"


def _recorded_disclosure_row(seq: int, body: dict, recorded_at: str, recorded_by: str) -> tuple:
    """The `disclosure` row of a full body at version 1, in _DISCLOSURE_INSERT_COLUMNS order: what
    disclosure_columns gives, built directly (imports make one per row; a test holds them equal)."""
    subjects = body["subjects"]
    group = subjects.get("group")
    gating = body["gating"] or {}
    cross_border = body["cross_border"]
    statutory = body["statutory"]
    return (
        seq, body["recipient"], body["recipient_country"], body["first_day"], body["last_day"],
        body["purpose"], body["basis"], body["method"], body["retention_until"], int(body["bulk"]),
        int(body["contract_as_record"]),
        group["count"] if group is not None else len(subjects["identified"]),
        group["count"] if group is not None else None,
        canonical_json(body["data_items"]).decode("utf-8"),
        cross_border["route"] if cross_border else None,
        int(statutory["required"]), statutory["ground"], "active", 1, None, recorded_at, recorded_by,
        gating.get("assessment"), int("override" in gating),
    )


def recorded_disclosure_rows(seq: int, body: dict, recorded_at: str, recorded_by: str) -> tuple[tuple, list[tuple]]:
    """The query-table rows of a disclosure.recorded entry: its `disclosure` row and its
    `disclosure_subject` rows (bulk imports make them before the entry is written)."""
    return _recorded_disclosure_row(seq, body, recorded_at, recorded_by), _subject_rows(seq, body["subjects"])


def insert_recorded(conn: sqlite3.Connection, rows: list[tuple], subjects: list[tuple]) -> None:
    """Write the rows of `recorded_disclosure_rows` for many entries at once."""
    conn.executemany(_DISCLOSURE_INSERT, rows)
    conn.executemany(_SUBJECT_INSERT, subjects)


def project_many(conn: sqlite3.Connection, entries: list[tuple[int, dict]]) -> None:
    """Project entries in seq order; runs of recorded disclosures go in one batch."""
    rows: list[tuple] = []
    subjects: list[tuple] = []

    def flush() -> None:
        if rows:
            insert_recorded(conn, rows, subjects)
            rows.clear()
            subjects.clear()

    for seq, leaf in entries:
        if leaf["kind"] == "disclosure.recorded":
            row, subject_rows = recorded_disclosure_rows(seq, leaf["body"], leaf["recorded_at"], leaf["recorded_by"])
            rows.append(row)
            subjects.extend(subject_rows)
        else:
            flush()
            project(conn, seq, leaf)
    flush()


def project(conn: sqlite3.Connection, seq: int, leaf: dict) -> None:
    """Write what entry `seq` (its decoded leaf) means into the query tables."""
    kind = leaf["kind"]
    body = leaf["body"]
    if kind == "disclosure.recorded":
        row, subject_rows = recorded_disclosure_rows(seq, body, leaf["recorded_at"], leaf["recorded_by"])
        insert_recorded(conn, [row], subject_rows)
    elif kind in ("disclosure.corrected", "disclosure.voided"):
        target = body["disclosure"]
        if kind == "disclosure.corrected":
            changes = body["changes"]
            cols = disclosure_columns(changes)
            action, fields = "corrected", ",".join(sorted(changes))
            if "subjects" in changes:
                conn.execute("DELETE FROM disclosure_subject WHERE disclosure_seq = ?", (target,))
                conn.executemany(_SUBJECT_INSERT, _subject_rows(target, changes["subjects"]))
        else:
            cols = {"status": "voided"}
            action, fields = "voided", "status"
        sets = "".join(f"{name} = ?, " for name in cols)
        conn.execute(
            f"UPDATE disclosure SET {sets}version = version + 1, last_change_seq = ? WHERE seq = ?",
            (*cols.values(), seq, target),
        )
        conn.execute(
            "INSERT INTO disclosure_change (seq, disclosure_seq, action, fields, reason_commitment) "
            "VALUES (?, ?, ?, ?, ?)",
            (seq, target, action, fields, body["reason"]["commitment"]),
        )
    elif kind in ("party.registered", "party.changed"):
        values = tuple(body.get(f) for f in _PARTY_FIELDS)
        if kind == "party.registered":
            version = 1
            conn.execute(
                "INSERT INTO party (party_id, name, kind, country, address, representative, contact, "
                "registered_seq, version_seq, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (body["party_id"], *values, seq, seq),
            )
        else:
            conn.execute(
                "UPDATE party SET name = ?, kind = ?, country = ?, address = ?, representative = ?, "
                "contact = ?, version_seq = ?, version = version + 1 WHERE party_id = ?",
                (*values, seq, body["party_id"]),
            )
            version = conn.execute(
                "SELECT version FROM party WHERE party_id = ?", (body["party_id"],)
            ).fetchone()[0]
        conn.execute(
            "INSERT INTO party_version (seq, party_id, version, name, kind, country, address, "
            "representative, contact, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, body["party_id"], version, *values, body.get("reason")),
        )
    elif kind == "contractor.recorded":
        party_id = body["party_id"]
        contract = body["contract"] or {}
        row = (
            body["service"], canonical_json(body["data_items"]).decode("utf-8"),
            contract.get("reference"), contract.get("signed_on"), contract.get("ends_on"),
            canonical_json(contract.get("clauses", {})).decode("utf-8"),
            canonical_json(body["certifications"]).decode("utf-8"),
            body["works_for"], int(body["engagement_approved"]), int(body["equivalent_measures"]),
            body["measures_checked_on"],
        )
        version = conn.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM contractor_version WHERE party_id = ?", (party_id,)
        ).fetchone()[0]
        conn.execute("DELETE FROM contractor WHERE party_id = ?", (party_id,))
        conn.execute(
            "INSERT INTO contractor (service, data_items, contract_reference, contract_signed_on, "
            "contract_ends_on, contract_clauses, certifications, works_for, engagement_approved, "
            "equivalent_measures, measures_checked_on, party_id, version, version_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, party_id, version, seq),
        )
        conn.execute("INSERT INTO contractor_version (seq, party_id, version) VALUES (?, ?, ?)",
                     (seq, party_id, version))
    elif kind == "assessment.recorded":
        conn.execute(
            "INSERT INTO assessment (seq, party_id, assessor, assessed_on, score, derived_outcome, outcome, "
            "overridden, condition_deadline, valid_until, next_review) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, body["party_id"], body["assessor"], body["assessed_on"], body["score"],
             body["derived_outcome"], body["outcome"], int(body["override"] is not None),
             body["condition_deadline"], body["valid_until"], body["next_review"]),
        )
    elif kind == "subject.erased":
        commitments = body["commitments"]
        conn.execute(
            "INSERT INTO erasure (seq, reason, commitment_count) VALUES (?, ?, ?)",
            (seq, body["reason"], len(commitments)),
        )
        conn.executemany(
            "INSERT INTO erased_commitment (commitment, erasure_seq) VALUES (?, ?)",
            [(c, seq) for c in commitments],
        )
    # "ledger.created" has no projection.


def clear_projections(conn: sqlite3.Connection) -> None:
    for name in PROJECTION_TABLE_NAMES:
        conn.execute(f"DELETE FROM {name}")
