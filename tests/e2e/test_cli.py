"""End to end through the real command line: `ledger.cli.main([...])` on a file in tmp_path.

Every command is run the way a person runs it; every kind of bad input must exit 2 with a
message on stderr, never a traceback, and leave the ledger exactly as it was.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
TABLES = ("entry", "vault", "party", "party_version", "disclosure", "disclosure_subject",
          "disclosure_change", "erasure", "erased_commitment")


# ---- helpers ------------------------------------------------------------------------------

@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    def run(*argv) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out and "Traceback" not in err, err
        assert isinstance(code, int)
        return Run(code, out, err)
    return run


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DISCLOSURE_LEDGER_OPERATOR", "e2e-operator")
    monkeypatch.delenv("DISCLOSURE_LEDGER_DB", raising=False)
    return tmp_path / "ledger.db"


def snapshot(path: Path) -> dict:
    """Everything the ledger holds, read behind the service."""
    with closing(sqlite3.connect(str(path))) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}


def entry_count(path: Path) -> int:
    with closing(sqlite3.connect(str(path))) as conn:
        return conn.execute("SELECT count(*) FROM entry").fetchone()[0]


def ok(result: Run) -> Run:
    assert result.code == 0, f"exit {result.code}: {result.err}"
    return result


def refused(result: Run, *words: str) -> Run:
    """Exit 2, an 'error:' line on stderr naming the problem, nothing on stdout that looks like success."""
    assert result.code == 2, f"exit {result.code}; out={result.out!r} err={result.err!r}"
    assert result.err.lstrip().startswith("error:"), result.err
    for word in words:
        assert word.lower() in result.err.lower(), (word, result.err)
    return result


PARTIES = [
    ["--id", "P001", "--name", "Kyoto Mail Services KK", "--kind", "contractor", "--country", "JP",
     "--address", "1 Karasuma, Kyoto", "--representative", "Taro Yamada", "--contact", "ops@kms.example.jp"],
    ["--id", "P002", "--name", "Partner Books KK", "--kind", "third_party", "--country", "JP",
     "--address", "2 Shijo, Kyoto", "--representative", "Hanako Sato"],
    ["--id", "P003", "--name", "Kyoto City Board of Education", "--kind", "government_body",
     "--country", "jp", "--address", "Kyoto City Hall"],
    ["--id", "P004", "--name", "Cloud Analytics Inc", "--kind", "contractor", "--country", "US",
     "--address", "1 Market St, San Francisco", "--representative", "Jane Doe"],
]

OUTSOURCING = ["--recipient", "P001", "--date", "2024-05-01", "--subject", "student-1", "--subject", "student-2",
               "--item", "name,email", "--purpose", "business_communication", "--basis", "outsourcing",
               "--evidence", "contract_reference=C-2024-01", "--method", "sftp", "--notes", "monthly newsletter run",
               "--override-reason", "assessment on paper, not yet in the register"]
CONSENT = ["--recipient", "Partner Books KK", "--date", "2024-05-02", "--subject", "student-3",
           "--item", "name", "--item", "address", "--purpose", "affiliate_provision_with_consent",
           "--basis", "consent", "--evidence", "consent_reference=form 17", "--evidence", "consent_date=2024-04-01",
           "--notes", "student-3 asked for the catalogue"]
LAW = ["--recipient", "P003", "--date", "2024-05-03", "--subject", "student-1", "--item", "name",
       "--purpose", "terms_violation_investigation", "--basis", "law",
       "--evidence", "statute=School Education Act Art. 1"]
BULK_ABROAD = ["--recipient", "P004", "--date", "2024-04-01", "--last-day", "2024-04-30",
               "--group-description", "all learners of the spring course", "--group-count", "120",
               "--item", "cookie_id;device_id", "--purpose", "service_provision_improvement_marketing",
               "--basis", "outsourcing", "--evidence", "contract_reference=DPA-7",
               "--route", "equivalent_measures", "--route-evidence", "measures_reference=SCC 2021",
               "--route-evidence", "last_checked_on=2024-03-01", "--method", "api",
               "--override-reason", "assessment on paper, not yet in the register"]


@pytest.fixture
def ledger(db, cli) -> Path:
    """A ledger with four parties and four disclosures (seqs 6-9), built through the CLI."""
    ok(cli("--db", db, "init"))
    for party in PARTIES:
        ok(cli("--db", db, "party", "add", *party))
    for disclosure in (OUTSOURCING, CONSENT, LAW, BULK_ABROAD):
        ok(cli("--db", db, "disclose", *disclosure))
    assert entry_count(db) == 9
    return db


# ---- the commands ---------------------------------------------------------------------------

def test_init_creates_a_ledger_once(db, cli):
    result = ok(cli("--db", db, "init"))
    assert "Ledger ready" in result.out and str(db) in result.out and "1 entries" in result.out
    first = snapshot(db)
    assert len(first["entry"]) == 1
    result = ok(cli("--db", db, "init"))  # again: confirms, writes nothing
    assert snapshot(db) == first
    ok(cli("--db", db, "verify"))


def test_party_add_list_show_change(db, cli):
    ok(cli("--db", db, "init"))
    result = ok(cli("--db", db, "party", "add", "--name", "Kyoto Mail Services KK", "--kind", "contractor",
                    "--country", "JP", "--address", "1 Karasuma, Kyoto", "--representative", "Taro Yamada"))
    assert "P001" in result.out and "entry 2" in result.out
    ok(cli("--db", db, "party", "add", "--id", "city", "--name", "Kyoto City", "--kind", "government_body",
           "--country", "jp", "--address", "Kyoto City Hall"))

    listing = ok(cli("--db", db, "party", "list")).out
    assert "P001" in listing and "Kyoto Mail Services KK" in listing and "city" in listing
    parties = json.loads(ok(cli("--db", db, "party", "list", "--json")).out)
    assert [(p["party_id"], p["country"], p["version"]) for p in parties] == [("P001", "JP", 1), ("city", "JP", 1)]

    shown = ok(cli("--db", db, "party", "show", "Kyoto City")).out  # by exact name
    assert "government_body" in shown and "History:" in shown and "v1 entry 3" in shown

    result = ok(cli("--db", db, "party", "change", "P001", "--address", "9 Gojo, Kyoto", "--reason", "moved office"))
    assert "version 2" in result.out
    shown = ok(cli("--db", db, "party", "show", "P001")).out
    assert "9 Gojo, Kyoto" in shown and "v1 entry 2" in shown and "v2 entry 4" in shown
    assert "moved office" in shown
    data = json.loads(ok(cli("--db", db, "party", "show", "P001", "--json")).out)
    assert data["party"]["address"] == "9 Gojo, Kyoto"
    assert [h["address"] for h in data["history"]] == ["1 Karasuma, Kyoto", "9 Gojo, Kyoto"]
    assert data["history"][1]["reason"] == "moved office"
    ok(cli("--db", db, "verify"))


def test_disclose_with_options(ledger, cli):
    listing = json.loads(ok(cli("--db", ledger, "list", "--json")).out)
    by_seq = {d["seq"]: d for d in listing}
    assert sorted(by_seq) == [6, 7, 8, 9]
    assert by_seq[6]["basis"] == "outsourcing" and by_seq[6]["statutory"] is False
    assert by_seq[6]["data_items"] == ["name", "email"] and by_seq[6]["subject_count"] == 2
    assert by_seq[6]["method"] == "sftp"
    assert by_seq[7]["recipient_id"] == "P002" and by_seq[7]["statutory"] is True
    assert by_seq[8]["statutory"] is False  # Art. 27(1)(i) exception
    assert by_seq[9]["bulk"] is True and by_seq[9]["subject_count"] == 120
    assert by_seq[9]["country"] == "US" and by_seq[9]["route"] == "equivalent_measures"
    assert (by_seq[9]["first_day"], by_seq[9]["last_day"]) == ("2024-04-01", "2024-04-30")
    assert by_seq[9]["retention_until"] == "2027-04-30"
    assert {d["recorded_by"] for d in listing} == {"e2e-operator"}

    result = ok(cli("--db", ledger, "--operator", "Sato", "disclose", "--recipient", "P002", "--date",
                    "2024-05-10", "--subject", "student-9", "--item", "name", "--purpose",
                    "affiliate_provision_with_consent", "--basis", "consent", "--evidence",
                    "consent_reference=web", "--evidence", "consent_date=2024-05-10"))
    assert "Recorded entry 10" in result.out and "statutory record" in result.out
    assert "kept until" in result.out
    assert json.loads(ok(cli("--db", ledger, "show", "10", "--json")).out)["current"]["recorded_by"] == "Sato"


def test_disclose_from_json(ledger, cli, tmp_path):
    source = tmp_path / "disclosure.json"
    source.write_text(json.dumps({
        "recipient": "P001", "date": "2024-05-20", "subjects": ["学生-42", "student-43"],
        "data_items": ["name", "learning_records"], "purpose": "service_provision_improvement_marketing",
        "basis": "outsourcing", "evidence": {"contract_reference": "C-2024-02"}, "method": "portal_upload",
        "notes": "二回目の送付 \U0001f4e6", "override_reason": FORCED,
    }, ensure_ascii=False), encoding="utf-8")
    result = ok(cli("--db", ledger, "disclose", "--from-json", source))
    assert "Recorded entry 10" in result.out
    shown = json.loads(ok(cli("--db", ledger, "show", "10", "--json")).out)
    assert shown["subjects"] == ["学生-42", "student-43"]
    assert shown["notes"] == "二回目の送付 \U0001f4e6"
    assert shown["evidence"] == {"contract_reference": "C-2024-02"}
    assert shown["current"]["data_items"] == ["name", "learning_records"]
    assert "学生-42" not in shown["leaf"]  # the identifier lives in the vault, not in the leaf
    assert hashlib.sha256(b"\x00" + shown["leaf"].encode("utf-8")).hexdigest() == shown["leaf_hash"]


def test_list_formats_and_filters(ledger, cli):
    table = ok(cli("--db", ledger, "list")).out
    assert table.splitlines()[0].split()[:3] == ["SEQ", "DATE", "RECIPIENT"]
    assert "Cloud Analytics Inc (P004)" in table and "2024-04-01..2024-04-30" in table

    rows = list(csv.DictReader(io.StringIO(ok(cli("--db", ledger, "list", "--csv")).out)))
    assert [int(r["seq"]) for r in rows] == [9, 8, 7, 6]  # newest first
    assert rows[-1]["data_items"] == "name;email" and rows[0]["route"] == "equivalent_measures"

    def seqs(*filters):
        return [d["seq"] for d in json.loads(ok(cli("--db", ledger, "list", "--json", *filters)).out)]

    assert seqs() == [9, 8, 7, 6]
    assert seqs("--since", "2024-05-02") == [8, 7]
    assert seqs("--until", "2024-05-01") == [9, 6]
    assert seqs("--since", "2024-05-01", "--until", "2024-05-02") == [7, 6]
    assert seqs("--recipient", "P001") == [6]
    assert seqs("--recipient", "Partner Books KK") == [7]
    assert seqs("--basis", "outsourcing") == [9, 6]
    assert seqs("--statutory") == [7]
    assert seqs("--subject", "student-1") == [8, 6]
    assert seqs("--subject", "nobody") == []
    assert seqs("--limit", "2") == [9, 8]
    assert seqs("--limit", "2", "--before", "8") == [7, 6]
    assert seqs("--basis", "outsourcing", "--since", "2024-05-01") == [6]
    assert "No disclosures match." in ok(cli("--db", ledger, "list", "--basis", "joint_use")).out


def test_show_has_state_history_leaf_hash_and_link(ledger, cli):
    ok(cli("--db", ledger, "correct", "6", "--set", "data_items=name;email;phone",
           "--reason", "the phone number was sent too"))
    shown = ok(cli("--db", ledger, "show", "6")).out
    assert "Disclosure 6 (active, version 2)" in shown
    assert "name, email, phone" in shown
    assert "student-1, student-2" in shown and "contract_reference=C-2024-01" in shown
    assert "History:" in shown and "entry 6: recorded" in shown
    assert "entry 10: corrected data_items" in shown and "the phone number was sent too" in shown
    assert "leaf hash" in shown and "prev" in shown

    data = json.loads(ok(cli("--db", ledger, "show", "6", "--json")).out)
    with closing(sqlite3.connect(str(ledger))) as conn:
        leaf, digest = conn.execute("SELECT leaf, leaf_hash FROM entry WHERE seq = 6").fetchone()
        prev = conn.execute("SELECT leaf_hash FROM entry WHERE seq = 5").fetchone()[0]
    assert data["leaf"].encode("utf-8") == leaf
    assert data["leaf_hash"] == digest.hex() == hashlib.sha256(b"\x00" + leaf).hexdigest()
    assert data["prev"] == prev.hex()
    assert f"leaf hash  {digest.hex()}" in shown and f"prev       {prev.hex()}" in shown
    assert [h["seq"] for h in data["history"]] == [10]

    first = ok(cli("--db", ledger, "show", "1")).out  # not a disclosure: the entry itself
    assert "ledger.created" in first and "prev       " + "0" * 64 in first and "leaf hash" in first


def test_subject_lists_every_disclosure_about_a_person(ledger, cli):
    result = ok(cli("--db", ledger, "subject", "student-1"))
    assert result.out.splitlines()[0].startswith("SEQ")
    data = json.loads(ok(cli("--db", ledger, "subject", "student-1", "--json")).out)
    assert [d["seq"] for d in data] == [8, 6]
    rows = list(csv.DictReader(io.StringIO(ok(cli("--db", ledger, "subject", "student-3", "--csv")).out)))
    assert [r["seq"] for r in rows] == ["7"]
    assert "No disclosure in the ledger names 'nobody'" in ok(cli("--db", ledger, "subject", "nobody")).out


def test_correct_records_a_new_entry_and_keeps_the_original(ledger, cli):
    before = snapshot(ledger)["entry"]
    result = ok(cli("--db", ledger, "correct", "7", "--set", "evidence.consent_reference=form 18",
                    "--set", "date=2024-05-03", "--reason", "wrong form number and day"))
    assert "entry 10" in result.out
    after = snapshot(ledger)["entry"]
    assert after[:9] == before  # nothing rewritten
    data = json.loads(ok(cli("--db", ledger, "show", "7", "--json")).out)
    assert data["current"]["version"] == 2 and data["current"]["first_day"] == "2024-05-03"
    assert data["evidence"] == {"consent_reference": "form 18", "consent_date": "2024-04-01"}
    assert data["history"][0]["action"] == "corrected"
    assert set(data["history"][0]["fields"]) == {"evidence", "first_day", "last_day"}
    assert data["history"][0]["reason"] == "wrong form number and day"
    assert json.loads(data["leaf"])["body"]["first_day"] == "2024-05-02"  # the original leaf stays
    ok(cli("--db", ledger, "verify"))


def test_void_and_what_a_void_refuses(ledger, cli):
    result = ok(cli("--db", ledger, "void", "8", "--reason", "recorded twice"))
    assert "entry 10" in result.out
    data = json.loads(ok(cli("--db", ledger, "show", "8", "--json")).out)
    assert data["current"]["status"] == "voided"
    assert data["history"][0]["action"] == "voided" and data["history"][0]["reason"] == "recorded twice"
    assert "voided" in ok(cli("--db", ledger, "list")).out
    state = snapshot(ledger)
    refused(cli("--db", ledger, "void", "8", "--reason", "again"), "already voided")
    refused(cli("--db", ledger, "correct", "8", "--set", "purpose=business_communication", "--reason", "r"),
            "voided")
    assert snapshot(ledger) == state
    ok(cli("--db", ledger, "verify"))


def test_erase_subject(ledger, cli):
    leaves = snapshot(ledger)["entry"]
    result = ok(cli("--db", ledger, "erase-subject", "student-3", "--yes"))
    assert "erasure entry 10" in result.out
    after = snapshot(ledger)
    assert after["entry"][:9] == leaves
    assert not any("student-3" in row[4] for row in after["vault"])
    assert not any(b"student-3" in row[1] for row in after["entry"])
    assert "No disclosure in the ledger names 'student-3'" in ok(cli("--db", ledger, "subject", "student-3")).out
    data = json.loads(ok(cli("--db", ledger, "show", "7", "--json")).out)
    assert data["subjects"] == ["(erased)"]
    assert data["notes"] == "(erased)"  # free text about only this person goes too
    assert data["evidence"]["consent_reference"] == "(erased)"
    assert data["evidence"]["consent_date"] == "2024-04-01"
    verified = ok(cli("--db", ledger, "verify", "--json"))
    assert json.loads(verified.out)["ok"] is True
    # Erasing again is refused and changes nothing.
    state = snapshot(ledger)
    refused(cli("--db", ledger, "erase-subject", "student-3", "--yes"), "already erased")
    assert snapshot(ledger) == state


def test_erase_subject_asks_for_confirmation(ledger, cli, monkeypatch):
    state = snapshot(ledger)
    monkeypatch.setattr(sys, "stdin", io.StringIO("erase\n"))  # not a terminal: --yes is needed
    refused(cli("--db", ledger, "erase-subject", "student-1"), "--yes")
    assert snapshot(ledger) == state

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))
    assert "Nothing erased." in ok(cli("--db", ledger, "erase-subject", "student-1")).out
    assert snapshot(ledger) == state
    monkeypatch.setattr(sys, "stdin", Terminal("erase\n"))
    assert "erasure entry 10" in ok(cli("--db", ledger, "erase-subject", "student-1")).out
    assert entry_count(ledger) == 10


# ---- import ------------------------------------------------------------------------------------

CSV_HEADER = ["recipient", "date", "subjects", "data_items", "purpose", "basis",
              "evidence.contract_reference", "evidence.statute", "notes", "override_reason"]
# The sample contractors have no assessment in the register: releases to them are forced.
FORCED = "assessment on paper, not yet in the register"


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows(row + [FORCED if row[5] == "outsourcing" else ""] for row in rows)
    return path


GOOD_CSV_ROWS = [
    ["P001", "2024-05-11", "student-20;student-21", "name;email", "business_communication", "outsourcing", "C-1", "", ""],
    ["Kyoto Mail Services KK", "2024-05-12", "student-22", "name", "business_communication", "outsourcing", "C-1", "", "first, second"],
    ["P003", "2024-05-13", "student-20", "name;address;grade_records", "terms_violation_investigation", "law", "",
     "School Education Act", ""],
]


def test_import_csv(ledger, cli, tmp_path):
    source = write_csv(tmp_path / "batch.csv", GOOD_CSV_ROWS)
    result = ok(cli("--db", ledger, "import", source))
    assert "Imported 3 disclosures as entries 10 to 12" in result.out
    data = json.loads(ok(cli("--db", ledger, "list", "--json", "--since", "2024-05-11")).out)
    by_seq = {d["seq"]: d for d in data}
    assert by_seq[10]["data_items"] == ["name", "email"] and by_seq[10]["subject_count"] == 2
    assert by_seq[11]["recipient_id"] == "P001"
    assert by_seq[12]["basis"] == "law" and by_seq[12]["data_items"] == ["name", "address", "grade_records"]
    assert json.loads(ok(cli("--db", ledger, "show", "11", "--json")).out)["notes"] == "first, second"
    assert [d["seq"] for d in json.loads(ok(cli("--db", ledger, "subject", "student-20", "--json")).out)] == [12, 10]
    ok(cli("--db", ledger, "verify"))


def test_import_jsonl(ledger, cli, tmp_path):
    source = tmp_path / "batch.jsonl"
    rows = [
        {"recipient": "P002", "date": "2024-05-14", "subjects": ["student-30"], "data_items": ["name"],
         "purpose": "affiliate_provision_with_consent", "basis": "consent",
         "evidence": {"consent_reference": "app 1", "consent_date": "2024-05-01"}},
        {"recipient": "P004", "first_day": "2024-05-01", "last_day": "2024-05-31",
         "group_description": "app users", "group_count": 900, "data_items": ["device_id"],
         "purpose": "service_provision_improvement_marketing", "basis": "outsourcing",
         "evidence.contract_reference": "DPA-7", "route": "equivalent_measures",
         "route_evidence": {"measures_reference": "SCC", "last_checked_on": "2024-03-01"},
         "override_reason": FORCED},
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    result = ok(cli("--db", ledger, "import", source))
    assert "Imported 2 disclosures as entries 10 to 11" in result.out
    data = {d["seq"]: d for d in json.loads(ok(cli("--db", ledger, "list", "--json")).out)}
    assert data[10]["statutory"] is True and data[11]["bulk"] is True and data[11]["subject_count"] == 900
    ok(cli("--db", ledger, "verify"))


def test_import_csv_is_all_or_nothing(ledger, cli, tmp_path):
    rows = GOOD_CSV_ROWS + [
        ["P001", "2024-13-45", "student-40", "name", "business_communication", "outsourcing", "C-1", "", ""],
        ["P001", "2024-05-15", "student-41", "name", "business_communication", "nope", "C-1", "", ""],
        ["P001", "2024-05-15", "student-42", "name;blood_type_x", "business_communication", "outsourcing", "C-1", "", ""],
    ]
    source = write_csv(tmp_path / "bad.csv", rows)
    state = snapshot(ledger)
    result = refused(cli("--db", ledger, "import", source), "nothing was imported")
    assert "3 of 6 rows are invalid" in result.err
    assert "row 4: date" in result.err
    assert "row 5: basis" in result.err and "nope" in result.err
    assert "row 6: data_items" in result.err and "blood_type_x" in result.err
    assert "row 1:" not in result.err
    assert result.out == ""
    assert snapshot(ledger) == state and entry_count(ledger) == 9


def test_import_jsonl_is_all_or_nothing(ledger, cli, tmp_path):
    good = {"recipient": "P001", "date": "2024-05-11", "subjects": ["s-1"], "data_items": ["name"],
            "purpose": "business_communication", "basis": "outsourcing",
            "evidence": {"contract_reference": "C-1"}, "override_reason": FORCED}
    two_problems = dict(good, subjects=[], basis="nope")
    unknown_recipient = dict(good, recipient="P999")
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in (good, good, two_problems, unknown_recipient)),
                      encoding="utf-8")
    state = snapshot(ledger)
    result = refused(cli("--db", ledger, "import", source), "nothing was imported")
    assert "row 3: subjects" in result.err and "row 3: basis" in result.err
    assert "row 4: recipient" in result.err and "P999" in result.err
    assert "row 1:" not in result.err and "row 2:" not in result.err
    assert snapshot(ledger) == state

    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    refused(cli("--db", ledger, "import", broken), "line 2")
    assert snapshot(ledger) == state


def test_import_report_counts_bad_rows_not_problems(ledger, cli, tmp_path):
    good = {"recipient": "P001", "date": "2024-05-11", "subjects": ["s-1"], "data_items": ["name"],
            "purpose": "business_communication", "basis": "outsourcing",
            "evidence": {"contract_reference": "C-1"}, "override_reason": FORCED}
    bad = dict(good, subjects=[], purpose="spam", data_items=["shoe_size"])
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in (good, bad)), encoding="utf-8")
    result = refused(cli("--db", ledger, "import", source))
    assert result.err.count("row 2:") == 3
    assert "1 of 2 rows are invalid" in result.err


# ---- --help ------------------------------------------------------------------------------------

def _command_paths(parser: argparse.ArgumentParser, prefix=()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.extend(_command_paths(sub, prefix + (name,)))
    return paths


ALL_COMMANDS = _command_paths(build_parser())


def test_every_documented_command_is_covered():
    expected = {("init",), ("demo",), ("party",), ("party", "add"), ("party", "list"), ("party", "show"),
                ("party", "change"), ("disclose",), ("correct",), ("void",), ("list",), ("show",),
                ("subject",), ("erase-subject",), ("import",), ("verify",), ("rebuild",)}
    assert expected <= set(ALL_COMMANDS)


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: " ".join(c) or "(top)")
def test_help_of_every_command_exits_0(command, capsys, tmp_path):
    db = tmp_path / "never-created.db"
    with pytest.raises(SystemExit) as exited:
        main(["--db", str(db), *command, "--help"])
    assert exited.value.code in (0, None)
    out, err = capsys.readouterr()
    assert out.startswith("usage: disclosure-ledger") and err == ""
    assert "Traceback" not in out
    assert not db.exists()


# ---- bad input -----------------------------------------------------------------------------------

BAD_INPUT = {
    "unknown command": (["frobnicate"], ["invalid choice"]),
    "unknown option": (["list", "--colour"], ["unrecognized arguments", "--colour"]),
    "unknown option of disclose": (["disclose", "--recipient", "P001", "--when", "2024-05-01"], ["--when"]),
    "unknown global option": (["--verbose", "list"], ["--verbose"]),
    "missing required option": (["party", "add", "--name", "X"], ["required"]),
    "unknown basis": (["disclose", *OUTSOURCING[:-10], "--basis", "gut_feeling", "--evidence", "contract_reference=C"],
                      ["basis", "gut_feeling", "outsourcing"]),
    "unknown basis filter": (["list", "--basis", "gut_feeling"], ["basis", "gut_feeling"]),
    "unknown purpose": (["disclose", *[a if a != "business_communication" else "spam" for a in OUTSOURCING]],
                        ["purpose", "spam"]),
    "unknown data item": (["disclose", *[a if a != "name,email" else "name,shoe_size" for a in OUTSOURCING]],
                          ["data_items", "shoe_size"]),
    "bad date": (["disclose", *[a if a != "2024-05-01" else "2024-13-45" for a in OUTSOURCING]],
                 ["date", "2024-13-45"]),
    "date in words": (["disclose", *[a if a != "2024-05-01" else "yesterday" for a in OUTSOURCING]],
                      ["date", "yesterday"]),
    "future date": (["disclose", *[a if a != "2024-05-01" else "2999-01-01" for a in OUTSOURCING]],
                    ["date", "future"]),
    "bad filter date": (["list", "--since", "1st May"], ["since"]),
    "evidence not key=value": (["disclose", *[a if a != "contract_reference=C-2024-01" else "C-2024-01"
                                              for a in OUTSOURCING]], ["evidence", "KEY=VALUE"]),
    "missing evidence": (["disclose", "--recipient", "P002", "--date", "2024-05-02", "--subject", "s",
                          "--item", "name", "--purpose", "business_communication", "--basis", "consent"],
                         ["evidence.consent_reference"]),
    "non-numeric group count": (["disclose", *[a if a != "120" else "many" for a in BULK_ABROAD]],
                                ["group_count", "many"]),
    "unknown recipient": (["disclose", *[a if a != "P001" else "P999" for a in OUTSOURCING]],
                          ["recipient", "P999"]),
    "abroad without a route": (["disclose", "--recipient", "P004", "--date", "2024-05-02", "--subject", "s",
                                "--item", "name", "--purpose", "business_communication", "--basis", "outsourcing",
                                "--evidence", "contract_reference=C"], ["route"]),
    "non-numeric seq (show)": (["show", "six"], ["seq", "six"]),
    "non-numeric seq (correct)": (["correct", "6th", "--set", "purpose=business_communication", "--reason", "r"],
                                  ["seq"]),
    "non-numeric seq (void)": (["void", "x", "--reason", "r"], ["seq"]),
    "non-numeric limit": (["list", "--limit", "ten"], ["limit"]),
    "unknown seq": (["show", "999"], ["999"]),
    "void of a non-disclosure": (["void", "2", "--reason", "r"], ["2"]),
    "correct an unknown field": (["correct", "6", "--set", "colour=blue", "--reason", "r"], ["colour"]),
    "correct without a change": (["correct", "6", "--set", "purpose=business_communication", "--reason", "r"],
                                 ["change"]),
    "correct without a reason": (["correct", "6", "--set", "purpose=business_communication", "--reason", " "],
                                 ["reason"]),
    "unknown party kind": (["party", "add", "--name", "X KK", "--kind", "friend", "--country", "JP",
                            "--address", "A", "--representative", "R"], ["kind", "friend"]),
    "unknown country": (["party", "add", "--name", "X KK", "--kind", "contractor", "--country", "XX",
                         "--address", "A", "--representative", "R"], ["country", "XX"]),
    "company without representative": (["party", "add", "--name", "X KK", "--kind", "contractor",
                                        "--country", "JP", "--address", "A"], ["representative"]),
    "duplicate party name": (["party", "add", "--name", "Partner Books KK", "--kind", "third_party",
                              "--country", "JP", "--address", "A", "--representative", "R"], ["name"]),
    "party change of nothing": (["party", "change", "P001", "--reason", "r"], ["change"]),
    "unknown party": (["party", "show", "P999"], ["P999"]),
    "erase an unknown subject": (["erase-subject", "nobody", "--yes"], ["subject"]),
    "unknown erasure reason": (["erase-subject", "student-1", "--yes", "--reason", "whim"], ["whim"]),
    "missing import file": (["import", "{tmp}/missing.csv"], ["missing.csv"]),
    "missing --from-json file": (["disclose", "--from-json", "{tmp}/missing.json"], ["missing.json"]),
    "--from-json not JSON": (["disclose", "--from-json", "{tmp}/not.json"], ["not.json", "JSON"]),
    "--from-json a list": (["disclose", "--from-json", "{tmp}/list.json"], ["list.json"]),
    "empty import file": (["import", "{tmp}/empty.csv"], ["empty.csv"]),
    "import not UTF-8": (["import", "{tmp}/latin1.csv"], ["latin1.csv"]),
    "demo into an existing ledger": (["demo"], ["already exists"]),
    "control character in a name": (["party", "add", "--name", "Bad\x07 KK", "--kind", "contractor",
                                     "--country", "JP", "--address", "A", "--representative", "R"], ["name"]),
}


@pytest.mark.parametrize("argv,words", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_exits_2_and_changes_nothing(ledger, cli, tmp_path, argv, words):
    (tmp_path / "not.json").write_text("{recipient: P001", encoding="utf-8")
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes(",".join(CSV_HEADER).encode() + b"\nP001,2024-05-01,J\xf6rg,name\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    state = snapshot(ledger)
    result = refused(cli("--db", ledger, *argv), *words)
    assert "Recorded" not in result.out and "Imported" not in result.out
    assert snapshot(ledger) == state


def _random_bytes_file(path: Path) -> Path:
    path.write_bytes(hashlib.sha256(b"seed").digest() * 200)
    return path


@pytest.mark.parametrize("command", [["list"], ["verify"], ["init"], ["verify", "--json"], ["demo"],
                                     ["party", "add", "--name", "X", "--kind", "contractor", "--country", "JP",
                                      "--address", "A", "--representative", "R"]])
def test_a_file_that_is_not_a_ledger_is_refused_and_left_alone(cli, tmp_path, command):
    path = _random_bytes_file(tmp_path / "photo.jpg")
    before = path.read_bytes()
    result = cli("--db", path, *command)
    refused(result, str(path))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg"]


def _other_sqlite(path: Path) -> Path:
    with closing(sqlite3.connect(str(path))) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT, email TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('Taro', 'taro@example.jp')")
        conn.commit()
    return path


@pytest.mark.parametrize("command", [["list"], ["verify"], ["init"]])
def test_another_sqlite_database_is_refused(cli, tmp_path, command):
    path = _other_sqlite(tmp_path / "contacts.db")
    result = refused(cli("--db", path, *command), "not a Disclosure Ledger")
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("SELECT * FROM contacts").fetchall() == [("Taro", "taro@example.jp")]
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("contacts",)]
    assert result.out == ""


def test_another_sqlite_database_is_left_byte_for_byte_alone(cli, tmp_path):
    path = _other_sqlite(tmp_path / "contacts.db")
    before = path.read_bytes()
    refused(cli("--db", path, "verify"), "not a Disclosure Ledger")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contacts.db"]


def test_an_empty_sqlite_database_is_not_turned_into_a_ledger_by_a_read(cli, tmp_path):
    path = tmp_path / "other-app.db"
    with closing(sqlite3.connect(str(path))) as conn:
        conn.execute("PRAGMA user_version = 7")
        conn.commit()
    before = path.read_bytes()
    refused(cli("--db", path, "list"))
    assert path.read_bytes() == before


def test_a_missing_ledger_is_not_created_by_other_commands(cli, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.db"
    for command in (["list"], ["verify"], ["party", "list"], ["show", "1"], ["rebuild"],
                    ["disclose", *OUTSOURCING]):
        refused(cli("--db", missing, *command), str(missing), "init")
        assert not missing.exists()
    refused(cli("--db", tmp_path / "no-folder" / "ledger.db", "init"), "does not exist")
    assert not (tmp_path / "no-folder").exists()
    # Without --db the default comes from $DISCLOSURE_LEDGER_DB.
    monkeypatch.setenv("DISCLOSURE_LEDGER_DB", str(missing))
    refused(cli("verify"), str(missing))
    assert not missing.exists()
    assert sorted(tmp_path.iterdir()) == []


def test_an_empty_file_is_not_a_ledger_for_reads(cli, tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    refused(cli("--db", path, "list"), "init")
    assert path.read_bytes() == b""


# ---- the real process ----------------------------------------------------------------------------

def test_the_real_process_exit_codes(ledger, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run(*argv):
        return subprocess.run([sys.executable, "-m", "ledger", "--db", str(ledger), *argv],
                              capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=60)

    intact = run("verify")
    assert intact.returncode == 0, intact.stderr
    assert "Intact" in intact.stdout and "Traceback" not in intact.stderr

    with closing(sqlite3.connect(str(ledger))) as conn:
        conn.execute("DROP TRIGGER entry_append_only_update")
        conn.execute("UPDATE entry SET leaf = CAST(replace(CAST(leaf AS TEXT), 'C-2024-01', 'C-2024-99') AS BLOB) "
                     "WHERE seq = 6")
        conn.commit()
    broken = run("verify", "--json")
    assert broken.returncode == 1, broken.stderr
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["first_bad_seq"] == 6
    assert "Traceback" not in broken.stderr

    usage = run("show", "six")
    assert usage.returncode == 2 and usage.stderr.startswith("error:") and "Traceback" not in usage.stderr
