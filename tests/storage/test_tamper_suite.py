"""Every attack of the design's tamper list, in one table, through the real `verify` command:
each is detected (exit 1), located at the right entry where an entry can be named, and told in
words a compliance officer can read. Attacks that only a checkpoint held outside the ledger can
reveal (a cut-short ledger, an old backup put back, a rewrite with recomputed hashes) are run
against the auditor's exported checkpoint, after the attacker has also removed the copies inside.

The sample ledger (conftest.py): 1 ledger.created | 2-5 parties | 6-25 disclosures |
26 correction of 7 | 27 void of 8 | 28 erasure of the subject of 11 | 29 party change.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import Callable

import pytest

from ledger.chain.note import Checkpoint, sign_note

from .attacks import (cli, drop_stored_checkpoints, leaf_hash, leaf_of, open_service, raw_sql, record_more,
                      restore_guards, rewrite_from)

JARGON_ONLY = re.compile(r"^(sqlite|operationalerror|keyerror|traceback)", re.I)


@dataclass(frozen=True)
class Attack:
    name: str
    run: Callable  # (ledger, tmp_path) -> None
    seq: int | None  # the entry the report must name first; None: nothing to locate
    words: str  # what the report must say
    outside: bool = False  # only the exported checkpoint can tell


def flip_a_byte(ledger, tmp_path):
    leaf = bytearray(leaf_of(ledger.path, 12))
    leaf[40] ^= 0x01
    raw_sql(ledger.path, ("UPDATE entry SET leaf = ? WHERE seq = 12", (bytes(leaf),)), drop_triggers=True)
    restore_guards(ledger.path)


def change_a_leaf_hash(ledger, tmp_path):
    raw_sql(ledger.path, ("UPDATE entry SET leaf_hash = ? WHERE seq = 9", (bytes(32),)), drop_triggers=True)
    restore_guards(ledger.path)


def delete_a_middle_row(ledger, tmp_path):
    raw_sql(ledger.path, "DELETE FROM entry WHERE seq = 15", drop_triggers=True)
    restore_guards(ledger.path)


def swap_two_rows(ledger, tmp_path):
    low, high = leaf_of(ledger.path, 16), leaf_of(ledger.path, 18)
    raw_sql(ledger.path, ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = 16", (high, leaf_hash(high))),
            ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = 18", (low, leaf_hash(low))), drop_triggers=True)
    restore_guards(ledger.path)


def truncate_the_tail(ledger, tmp_path):
    drop_stored_checkpoints(ledger.path)
    raw_sql(ledger.path, f"DELETE FROM entry WHERE seq > {ledger.size}", f"DELETE FROM vault WHERE entry_seq > {ledger.size}",
            drop_triggers=True)
    restore_guards(ledger.path)
    with open_service(ledger.path) as service:
        service.rebuild()


def restore_an_old_backup(ledger, tmp_path):
    shutil.copyfile(tmp_path / "backup-before-the-checkpoint.db", ledger.path)


def rewrite_everything(ledger, tmp_path):
    drop_stored_checkpoints(ledger.path)
    rewrite_from(ledger.path, 14, b'"contract_reference":"C-8"', b'"contract_reference":"C-9"')


def fork_the_checkpoints(ledger, tmp_path):
    with open_service(ledger.path) as service:
        key_id, private = service._unlocked_signer()
        size = service.store.size()
        note = sign_note(Checkpoint(service.origin(), size, bytes(32)).body(), service.origin(), private)
    with closing(sqlite3.connect(str(ledger.path))) as conn:
        conn.execute("INSERT INTO checkpoint (size, root, key_id, note, made_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
                     (size, bytes(32), key_id, note, "2024-06-02T03:00:00Z", "manual"))
        conn.commit()


def drop_the_triggers(ledger, tmp_path):
    raw_sql(ledger.path, "SELECT 1", drop_triggers=True)


def edit_a_projection(ledger, tmp_path):
    raw_sql(ledger.path, "UPDATE disclosure SET basis = 'law' WHERE seq = 13")


def edit_a_vault_row(ledger, tmp_path):
    with closing(sqlite3.connect(str(ledger.path))) as conn:
        digest, value = conn.execute("SELECT commitment, value FROM vault WHERE entry_seq = 14 AND field = 'subject' "
                                     "ORDER BY commitment LIMIT 1").fetchone()
    raw_sql(ledger.path, ("UPDATE vault SET value = ? WHERE commitment = ?", (value + "x", digest)))


ATTACKS = [
    Attack("a byte of a leaf", flip_a_byte, 12, "entry 12 was changed after it was written"),
    Attack("a leaf hash", change_a_leaf_hash, 9, "entry 9 was changed after it was written"),
    Attack("a middle row deleted", delete_a_middle_row, 15, "entry 15 is missing"),
    Attack("two rows swapped", swap_two_rows, 16, "entries were moved or swapped"),
    Attack("the tail truncated", truncate_the_tail, 30, "were removed (the ledger was cut short", outside=True),
    Attack("an old backup restored", restore_an_old_backup, 30, "an older backup was put back", outside=True),
    Attack("a full rewrite with recomputed hashes", rewrite_everything, 1, "the ledger was rewritten", outside=True),
    Attack("a fork", fork_the_checkpoints, None, "fork: checkpoints #1 and #2 are both validly signed"),
    Attack("the triggers dropped", drop_the_triggers, None, "was removed: someone who had the file switched it off"),
    Attack("a projection edited", edit_a_projection, 13, "the query table 'disclosure' does not match the entries"),
    Attack("a vault row edited", edit_a_vault_row, 14, "a personal value kept for entry 14 was edited in the vault"),
]


@pytest.fixture
def exported(sample_ledger, tmp_path):
    """The sample ledger (29 entries) with a signing key and a backup taken then; two more entries;
    and the auditor's exported checkpoint of all 31."""
    from ledger.backup import backup

    with open_service(sample_ledger.path) as service:
        service.create_signing_key()
        backup(service, tmp_path / "backup-before-the-checkpoint.db")
    record_more(sample_ledger.path, 2)
    with open_service(sample_ledger.path) as service:
        note = service.make_checkpoint("export").note
    auditor = tmp_path / "auditor.note"
    auditor.write_text(note)
    return sample_ledger, auditor


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_every_attack_is_detected_located_and_explained(exported, tmp_path, capsys, attack):
    ledger, auditor = exported
    attack.run(ledger, tmp_path)
    if attack.outside:
        code, out, _ = cli(capsys, "--db", ledger.path, "verify")
        assert code == 0, "this attack is invisible from inside the file; the auditor's checkpoint is needed"
        code, out, _ = cli(capsys, "--db", ledger.path, "verify", "--against", auditor)
    else:
        code, out, _ = cli(capsys, "--db", ledger.path, "verify")
    assert code == 1
    assert "NOT intact" in out
    assert attack.words in out, out
    if attack.seq is not None:
        assert f"the first bad entry is {attack.seq}." in out
    problems = [line[4:] for line in out.splitlines() if line.startswith("  - ")]
    assert problems and not any(JARGON_ONLY.match(p) for p in problems)


def test_the_attacked_ledger_is_still_intact_without_the_attack(exported, capsys):
    ledger, auditor = exported
    record_more(ledger.path, 2)
    code, out, _ = cli(capsys, "--db", ledger.path, "verify", "--against", auditor)
    assert code == 0 and "It still holds the" in out
