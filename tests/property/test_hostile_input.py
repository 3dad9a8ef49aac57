"""Hostile input against the real program: the service, the command line and import files.

Every input is either recorded or refused with a ValidationError naming the field (exit 2 from
the command line, with an `error:` line); never a crash (exit 70, a traceback), and a refused input
leaves the ledger exactly as it was: same size, same root, same vault, and it still verifies.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import unicodedata
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from ledger import validate as v
from ledger.cli import main
from ledger.domain import DISCLOSURE_FIELDS, PARTY_FIELDS, DisclosureFilter
from ledger.errors import LedgerError, NotFoundError, ValidationError, ValidationErrors
from ledger.service import ImportRejected, LedgerService

from conftest import PARTY_DATA

def fuzz(examples: int) -> settings:
    """Counts chosen so that the whole file runs in well under a minute on a shared 2-core machine."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# ---- hostile values ---------------------------------------------------------------------------------

SPECIAL = [
    "\x00", "\x1b[31m", "\x07", "\x85", "\t", "\n", "\r\n", "\u2028", "\u202e", "\u202d", "\u2066", "\u200f",
    "\u200b", "\u2060", "\ufeff", "\u00ad", "\u061c", "\U000e0020", "\U000e0041", "\ud800", "\udfff", "\u200d", "'", '"', "%", "_", ";--",
    ") OR 1=1 --", "\\", "日本語", "عربي", "עברית", "Ωμέγα", "👩\u200d💻", "e\u0301", "ｆｕｌｌ", " ",
]
pieces = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=8),
                   st.text(st.characters(exclude_categories=()), max_size=4))
hostile_text = st.one_of(
    st.lists(pieces, max_size=6).map("".join),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["A", "日", "\u202e", "x "]), st.sampled_from([201, 2001, 100_000])),
)
hostile_value = st.one_of(
    hostile_text, st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True), st.lists(hostile_text, max_size=3), st.dictionaries(hostile_text, hostile_text, max_size=2),
)
dates = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["9999-12-31", "0001-01-01", "2024-02-30", "2026-13-01", "20240501", "2024-5-1", "+2024-05-01",
                     "2024-05-01T00:00", "２０２４-０５-０１", "2024-05-01\x00", ""]),
    hostile_text,
)
counts = st.one_of(st.integers(min_value=-2**70, max_value=2**70), st.sampled_from(["-1", "0", "1e3", "1_000", "9" * 5000, "١٢"]),
                   st.floats(allow_nan=True), st.booleans(), hostile_text)


def as_errors(exc: LedgerError) -> list[ValidationError]:
    return list(exc.errors) if isinstance(exc, ValidationErrors) else [exc]


def field_root(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def assert_names_fields(exc: LedgerError, allowed: set[str]) -> None:
    for error in as_errors(exc):
        assert isinstance(error, ValidationError), error
        assert field_root(error.field) in allowed, (error.field, error.rule)
        assert error.rule and "Traceback" not in error.rule


def fingerprint(service: LedgerService) -> tuple:
    """Size, root and every vault and projection row count: what a partial write would change."""
    size = service.store.size()
    counts = tuple(service.store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                   for table in ("vault", "party", "disclosure", "disclosure_subject", "disclosure_change"))
    return size, service.root_at(size), counts


def refused_unchanged(service: LedgerService, before: tuple, exc: LedgerError, allowed: set[str]) -> None:
    event("refused")
    assert_names_fields(exc, allowed)
    assert fingerprint(service) == before


def assert_clean(value: str) -> None:
    """What a valid entry holds: NFC text without controls or invisible formatting characters."""
    assert value == unicodedata.normalize("NFC", value) == value.strip()
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", value)
    assert not any(unicodedata.category(c) in ("Cf", "Cs") and c not in "\u200c\u200d" for c in value)


# ---- the validator's rule ------------------------------------------------------------------------------

def test_every_invisible_format_character_is_refused_except_the_joiners():
    """The refused set is every Unicode format character (Cf) but ZWNJ and ZWJ, which scripts need."""
    import sys
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) != "Cf":
            continue
        if char in "\u200c\u200d":
            assert v.text("name", f"a{char}b") == f"a{char}b"
        else:
            with pytest.raises(ValidationError, match=f"U\\+{code:04X}"):
                v.text("name", f"a{char}b")


@fuzz(300)
@given(value=hostile_value, multiline=st.booleans())
def test_text_is_clean_or_refused_naming_the_field(value, multiline):
    try:
        cleaned = v.text("the_field", value, required=False, max_len=v.MAX_TEXT, multiline=multiline)
    except ValidationError as exc:
        assert exc.field == "the_field"
        return
    if cleaned is not None:
        assert isinstance(cleaned, str) and len(cleaned) <= v.MAX_TEXT
        assert_clean(cleaned.replace("\n", " ").replace("\t", " ") if multiline else cleaned)


# ---- the service --------------------------------------------------------------------------------------

PARTY_ALLOWED = set(PARTY_FIELDS) | {"party"}


@fuzz(60)
@given(changes=st.dictionaries(st.sampled_from(PARTY_FIELDS), hostile_value, min_size=1, max_size=3))
def test_register_party_records_clean_text_or_refuses_naming_the_field(fresh_ledger, changes):
    data = {**PARTY_DATA["third_party"], "name": f"Publisher {fresh_ledger.store.size()}", **changes}
    before = fingerprint(fresh_ledger)
    try:
        party = fresh_ledger.register_party(data)
    except (ValidationError, ValidationErrors) as exc:
        refused_unchanged(fresh_ledger, before, exc, PARTY_ALLOWED)
        return
    assert fresh_ledger.store.size() == before[0] + 1
    for name in ("name", "address", "representative", "contact"):
        if getattr(party, name) is not None:
            assert_clean(getattr(party, name))


def consent_release(parties, **changes) -> dict:
    return {"recipient": parties.third_party.party_id, "date": "2026-05-01", "subjects": ["S-1"],
            "data_items": ["name"], "purpose": "affiliate_provision_with_consent", "basis": "consent",
            "evidence": {"consent_reference": "form 17", "consent_date": "2026-04-01"}, **changes}


DISCLOSURE_ALLOWED = set(DISCLOSURE_FIELDS) | {"disclosure", "changes", "unknown"}
disclosure_changes = st.dictionaries(
    st.one_of(st.sampled_from(DISCLOSURE_FIELDS), st.sampled_from(["evidence.consent_reference", "evidence.consent_date",
                                                                  "route_evidence.x", "evidence.\u202e", "unknown"])),
    st.one_of(hostile_value, dates, counts, st.lists(hostile_text, max_size=3).map(tuple)),
    min_size=1, max_size=4)


@fuzz(120)
@given(changes=disclosure_changes)
def test_record_disclosure_records_or_refuses_naming_the_field(fresh_ledger, parties, changes):
    before = fingerprint(fresh_ledger)
    try:
        seq = fresh_ledger.record_disclosure(consent_release(parties, **changes))
    except (ValidationError, ValidationErrors) as exc:
        refused_unchanged(fresh_ledger, before, exc, DISCLOSURE_ALLOWED)
        return
    assert seq == before[0] + 1 == fresh_ledger.store.size()
    detail = fresh_ledger.disclosure(seq)
    for value in (*detail.subjects, *detail.evidence.values(), detail.group_description):
        if value is not None:
            assert_clean(value)


@fuzz(60)
@given(seq=st.one_of(st.integers(min_value=-2**70, max_value=2**70), st.just(0), st.booleans(), hostile_text),
       changes=disclosure_changes, reason=hostile_value)
def test_correct_disclosure_records_or_refuses(fresh_ledger, parties, seq, changes, reason):
    target = fresh_ledger.record_disclosure(consent_release(parties))
    for candidate in (seq, target):
        before = fingerprint(fresh_ledger)
        try:
            fresh_ledger.correct_disclosure(candidate, changes, reason)
        except NotFoundError:
            assert fingerprint(fresh_ledger) == before
        except (ValidationError, ValidationErrors) as exc:
            refused_unchanged(fresh_ledger, before, exc, DISCLOSURE_ALLOWED | {"reason", "seq", "first_day"})
        else:
            assert fresh_ledger.store.size() == before[0] + 1


REGISTER_FIELDS = ("service", "data_items", "contract", "certifications", "works_for", "engagement_approved",
                   "equivalent_measures", "measures_checked_on", "reason", "unknown")


@fuzz(60)
@given(data=st.dictionaries(st.sampled_from(REGISTER_FIELDS), st.one_of(hostile_value, dates), max_size=4),
       contract=st.dictionaries(st.sampled_from(["reference", "signed_on", "ends_on", "clauses", "x"]),
                                st.one_of(hostile_value, dates), max_size=3))
def test_record_contractor_records_or_refuses(fresh_ledger, parties, data, contract):
    record = {"service": "mail delivery", "data_items": ["name"], **data}
    if "contract" not in data:
        record["contract"] = contract
    before = fingerprint(fresh_ledger)
    try:
        fresh_ledger.record_contractor(parties.contractor.party_id, record)
    except (ValidationError, ValidationErrors) as exc:
        refused_unchanged(fresh_ledger, before, exc, set(REGISTER_FIELDS) | {"register", "contract", "certifications"})
        return
    assert fresh_ledger.store.size() == before[0] + 1


ASSESSMENT_FIELDS = ("assessor", "assessed_on", "override_outcome", "override_reason", "conditions",
                     "condition_deadline", "valid_until", "unknown")


@fuzz(50)
@given(data=st.dictionaries(st.sampled_from(ASSESSMENT_FIELDS), st.one_of(hostile_value, dates), max_size=3),
       answer=st.dictionaries(st.sampled_from(["item", "answer", "note", "evidence_files"]),
                              st.one_of(hostile_value, st.lists(hostile_text, max_size=2)), max_size=2))
def test_record_assessment_records_or_refuses(fresh_ledger, parties, data, answer):
    answers = [{"item": item, "answer": "met"} for item in fresh_ledger.ref.checklist]
    answers[0] = {**answers[0], **answer}
    before = fingerprint(fresh_ledger)
    try:
        fresh_ledger.record_assessment(parties.contractor.party_id, {"answers": answers, **data})
    except (ValidationError, ValidationErrors) as exc:
        refused_unchanged(fresh_ledger, before, exc, set(ASSESSMENT_FIELDS) | {"answers", "assessment", "outcome"})
        return
    assert fresh_ledger.store.size() == before[0] + 1


@fuzz(80)
@given(since=st.one_of(st.none(), dates), until=st.one_of(st.none(), dates), recipient=st.one_of(st.none(), hostile_text),
       basis=st.one_of(st.none(), hostile_text), subject=st.one_of(st.none(), hostile_text),
       text=st.one_of(st.none(), hostile_text), limit=st.one_of(st.none(), counts), before_seq=st.one_of(st.none(), counts))
def test_filters_answer_or_refuse(fresh_ledger, since, until, recipient, basis, subject, text, limit, before_seq):
    filters = DisclosureFilter(since=since, until=until, recipient=recipient, basis=basis, subject=subject, text=text)
    try:
        rows = fresh_ledger.disclosures(filters, limit=limit, before_seq=before_seq)
    except NotFoundError:
        return  # an unknown recipient
    except (ValidationError, ValidationErrors) as exc:
        assert_names_fields(exc, {"since", "until", "recipient", "basis", "subject", "text", "limit", "before_seq"})
        return
    assert rows == []  # the ledger holds no disclosure yet


@fuzz(60)
@given(identifier=hostile_value)
def test_subject_lookups_and_erasure_refuse_without_writing(fresh_ledger, parties, identifier):
    if not fresh_ledger.subject_disclosures("S-1"):
        fresh_ledger.record_disclosure(consent_release(parties))
    before = fingerprint(fresh_ledger)
    for call in (fresh_ledger.subject_disclosures, fresh_ledger.recipients_to_notify, fresh_ledger.erase_subject):
        try:
            call(identifier)
        except NotFoundError:
            pass
        except (ValidationError, ValidationErrors) as exc:
            assert_names_fields(exc, {"identifier", "subject", "reason"})
        else:
            if call is fresh_ledger.erase_subject:
                assert identifier.strip() == "S-1"
                return
        assert fingerprint(fresh_ledger) == before


# ---- SQL metacharacters match literally --------------------------------------------------------------

METACHARACTERS = ["'", '"', "%", "_", ";--", ") OR 1=1 --", "' OR '1'='1", "\\", "*", "[a-z]", "%_%"]
literal_text = st.lists(st.one_of(st.sampled_from(METACHARACTERS), st.sampled_from(["a", "B", "1", " "])),
                        min_size=1, max_size=4).map("".join).map(str.strip).filter(bool)


@fuzz(40)
@given(recorded=st.lists(literal_text, min_size=1, max_size=3, unique=True), asked=literal_text)
def test_subject_filters_match_metacharacters_literally(fresh_ledger, parties, recorded, asked):
    seqs = {}
    for subject in recorded:
        if not fresh_ledger.subject_disclosures(subject):
            seqs[subject] = fresh_ledger.record_disclosure(consent_release(parties, subjects=[subject]))
    for subject, seq in seqs.items():
        assert seq in {s.seq for s in fresh_ledger.subject_disclosures(subject)}
    known = fresh_ledger_subjects(fresh_ledger)
    for subject in [*recorded, asked, "%", "_", "' OR '1'='1"]:
        found = [s.seq for s in fresh_ledger.disclosures(DisclosureFilter(subject=subject), limit=None)]
        assert set(found) == {s.seq for s in fresh_ledger.subject_disclosures(subject)}
        # Each found disclosure names exactly this text: a LIKE wildcard or injected OR would find more.
        assert all(subject in fresh_ledger.disclosure(seq).subjects for seq in found)
        assert bool(found) == (subject in known)


def fresh_ledger_subjects(service: LedgerService) -> set[str]:
    return {name for summary in service.disclosures(limit=None) for name in service.disclosure(summary.seq).subjects}


def test_text_and_recipient_filters_match_metacharacters_literally(fresh_ledger, parties):
    odd = fresh_ledger.register_party({**PARTY_DATA["third_party"], "name": "O'Brien \"Books\" 100%_; ) OR 1=1 --"})
    fresh_ledger.record_disclosure(consent_release(parties))
    seq = fresh_ledger.record_disclosure(consent_release(parties, recipient=odd.party_id))
    for name in (odd.name, odd.party_id, odd.name.upper()):
        assert [s.seq for s in fresh_ledger.disclosures(DisclosureFilter(recipient=name))] == [seq]
    for needle in ("'", "100%_", ") OR 1=1", '"Books"'):
        assert [s.seq for s in fresh_ledger.disclosures(DisclosureFilter(text=needle))] == [seq]
    for needle in ("%", "%%", "' OR '1'='1", "1=1 OR", "_x"):  # LIKE wildcards would match everything
        found = [s.seq for s in fresh_ledger.disclosures(DisclosureFilter(text=needle))]
        assert found == ([seq] if needle.casefold() in odd.name.casefold() else [])
    for needle in ("' OR 1=1 --", "%", "consent' --"):
        with pytest.raises(NotFoundError):
            fresh_ledger.disclosures(DisclosureFilter(recipient=needle))
        with pytest.raises(ValidationError, match="basis"):
            fresh_ledger.disclosures(DisclosureFilter(basis=needle))


# ---- the command line, in process ---------------------------------------------------------------------

@pytest.fixture
def cli_ledger(tmp_path, monkeypatch, clock) -> Path:
    """A ledger with the usual parties, written by the service, for the command line to attack."""
    monkeypatch.setenv("DISCLOSURE_LEDGER_OPERATOR", "fuzz-operator")
    monkeypatch.delenv("DISCLOSURE_LEDGER_DB", raising=False)
    path = tmp_path / "cli.db"
    with LedgerService.open(path, create=True, operator="setup") as service:
        for data in PARTY_DATA.values():
            service.register_party(data)
    return path


def file_state(path: Path) -> tuple:
    with closing(sqlite3.connect(str(path))) as conn:
        return tuple(tuple(conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())
                     for table in ("entry", "vault", "party", "disclosure", "disclosure_subject"))


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, err)  # never 70, "unexpected internal error"
    assert "Traceback" not in out + err and "unexpected internal error" not in err
    if currently_in_test_context():
        event(f"exit {code}")
    if code == 2:
        assert err.startswith("error:"), err
        # Nothing that acts on the terminal or hides text: no control but the message's own line
        # breaks, no lone surrogate, no invisible format character but the joiners.
        assert not [c for c in err if (unicodedata.category(c) in ("Cc", "Cs") and c != "\n")
                    or (unicodedata.category(c) == "Cf" and c not in "\u200c\u200d")], repr(err)
    return code, out, err


def test_messages_show_every_refused_character_as_an_escape():
    from ledger.cli import _shown
    shown = _shown("x\x1b[31m\u2028\u061c\u202e\U000e0020\ud800\u00ady\u200d")
    assert shown == r"x\u001b[31m\u2028\u061c\u202e\ue0020\ud800\u00ady" + "\u200d"  # joiners are allowed


cli_text = hostile_text.filter(lambda s: "\x00" not in s)  # argv cannot hold NUL outside a test
CONSENT_ARGS = {"--recipient": "P003", "--date": "2024-05-02", "--subject": "S-1", "--item": "name",
                "--purpose": "affiliate_provision_with_consent", "--basis": "consent",
                "--evidence": "consent_reference=form 17", "--group-count": None, "--last-day": None,
                "--notes": None, "--method": None, "--route": None}


@fuzz(60)
@given(option=st.sampled_from(["--name", "--address", "--representative", "--contact", "--country", "--kind", "--id"]),
       value=cli_text)
def test_party_add_on_the_command_line(cli_ledger, capsys, option, value):
    args = {"--name": f"Publisher {len(value)} {option}", "--kind": "third_party", "--country": "JP",
            "--address": "1 Main St", "--representative": "Rep", option: value}
    before = file_state(cli_ledger)
    code, out, err = run_cli(capsys, "--db", cli_ledger, "party", "add", *[x for pair in args.items() for x in pair])
    if code == 2:
        assert file_state(cli_ledger) == before
        # An option refused by the parser names it; the service's refusals name the field or the party.
        assert option.lstrip("-").replace("id", "party_id") in err or ("party" in err and "argument" not in err), err


@fuzz(80)
@given(changes=st.dictionaries(st.sampled_from(list(CONSENT_ARGS)), st.one_of(cli_text, dates, counts.map(str)),
                               min_size=1, max_size=3))
def test_disclose_on_the_command_line(cli_ledger, capsys, changes):
    args = {**CONSENT_ARGS, **changes}
    argv = [x for key, value in args.items() if value is not None for x in (key, value)]
    before = file_state(cli_ledger)
    code, out, err = run_cli(capsys, "--db", cli_ledger, "disclose", *argv,
                             "--evidence", "consent_date=2024-04-01")
    if code == 2:
        assert file_state(cli_ledger) == before
        assert "nothing was recorded" in err or "error: disclosure-ledger disclose: argument" in err or "no party" in err
    else:
        assert len(file_state(cli_ledger)[0]) == len(before[0]) + 1


@fuzz(60)
@given(option=st.sampled_from(["--since", "--until", "--recipient", "--basis", "--subject", "--limit", "--before"]),
       value=st.one_of(cli_text, st.sampled_from(METACHARACTERS), counts.map(str)))
def test_list_filters_on_the_command_line(cli_ledger, capsys, option, value):
    before = file_state(cli_ledger)
    code, out, err = run_cli(capsys, "--db", cli_ledger, "list", option, value, "--json")
    if code == 0:
        assert json.loads(out) == []  # no disclosure yet, and no filter value matches everything
    assert file_state(cli_ledger)[:3] == before[:3]


def test_seq_and_number_options_beyond_sqlite_are_refused_by_name(cli_ledger, capsys):
    huge = str(2**64)
    for argv, name in ((["show", huge], "seq"), (["list", "--before", huge], "--before"),
                       (["list", "--limit", "-1"], "--limit"), (["void", huge, "--reason", "x"], "seq"),
                       (["correct", huge, "--set", "purpose=x", "--reason", "x"], "seq"),
                       (["vendor", "due", "--within", "99999999"], "within"),
                       (["proof", "consistency", "--from", huge], "--from")):
        code, _, err = run_cli(capsys, "--db", cli_ledger, *argv)
        assert code == 2 and name in err, (argv, err)


def test_an_option_of_a_record_given_twice_is_refused(cli_ledger, capsys):
    before = file_state(cli_ledger)
    argv = [x for key, value in CONSENT_ARGS.items() if value is not None for x in (key, value)]
    code, _, err = run_cli(capsys, "--db", cli_ledger, "disclose", *argv, "--date", "2024-05-03",
                           "--evidence", "consent_date=2024-04-01")
    assert code == 2 and "--date" in err and "more than once" in err
    code, _, err = run_cli(capsys, "--db", cli_ledger, "disclose", *argv, "--evidence", "consent_reference=other",
                           "--evidence", "consent_date=2024-04-01")
    assert code == 2 and "evidence.consent_reference" in err and "more than once" in err
    assert file_state(cli_ledger) == before


# ---- import files ------------------------------------------------------------------------------------------

GOOD_ROW = {"recipient": "P003", "date": "2024-05-02", "subjects": "S-1", "data_items": "name",
            "purpose": "affiliate_provision_with_consent", "basis": "consent",
            "evidence.consent_reference": "form 17", "evidence.consent_date": "2024-04-01"}
COLUMNS = [*GOOD_ROW, "group_count", "group_description", "notes", "last_day", "route", "method", "unknown"]


def import_file(capsys, ledger: Path, path: Path) -> tuple[int, str]:
    before = file_state(ledger)
    code, out, err = run_cli(capsys, "--db", ledger, "import", path)
    if code == 2:
        assert file_state(ledger) == before  # all or nothing
    return code, err


@fuzz(50)
@given(rows=st.lists(st.dictionaries(st.sampled_from(COLUMNS), st.one_of(cli_text, dates, counts.map(str)), max_size=3),
                     min_size=1, max_size=4),
       extra_column=st.one_of(st.none(), st.sampled_from(COLUMNS)), extra_values=st.integers(0, 2))
def test_csv_import_is_all_or_nothing(cli_ledger, capsys, tmp_path, rows, extra_column, extra_values):
    header = list(COLUMNS[:-1]) + ([extra_column] if extra_column else [])  # may name a column twice
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        merged = {**GOOD_ROW, **row}
        writer.writerow([merged.get(name, "") for name in header] + ["surplus"] * extra_values)
    path = tmp_path / "rows.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    before = len(file_state(cli_ledger)[0])
    code, err = import_file(capsys, cli_ledger, path)
    # A whole-file refusal (bytes that are not UTF-8, a cell over the CSV size limit) may come first.
    whole_file = "readable CSV" in err
    if extra_column in COLUMNS[:-1]:
        assert code == 2 and (f"the column '{extra_column}' is given twice" in err or whole_file), err
    elif extra_values or extra_column:
        assert code == 2 and ("values but the header" in err or "unknown: is not a disclosure field" in err
                              or whole_file), err
    if code == 0:
        assert len(file_state(cli_ledger)[0]) == before + len(rows)


@fuzz(50)
@given(rows=st.lists(st.dictionaries(st.sampled_from([*COLUMNS, "evidence", "subjects"]),
                                     st.one_of(hostile_value, dates, counts), max_size=3), min_size=1, max_size=4))
def test_jsonl_import_is_all_or_nothing(cli_ledger, capsys, tmp_path, rows):
    lines = []
    for row in rows:
        merged = {**GOOD_ROW, **row}
        lines.append(json.dumps(merged, ensure_ascii=True, allow_nan=True))
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = len(file_state(cli_ledger)[0])
    code, err = import_file(capsys, cli_ledger, path)
    if code == 0:
        assert len(file_state(cli_ledger)[0]) == before + len(rows)


@pytest.mark.parametrize("content, words", [
    ('{"recipient": "P003", "recipient": "P001"}\n', ["'recipient'", "given twice"]),
    ('{"evidence": {"consent_reference": "a", "consent_reference": "b"}}\n', ["consent_reference", "given twice"]),
    ("[" * 50_000 + "\n", ["nested too deeply"]),
    ('{"group_count": ' + "9" * 5000 + "}\n", ["line 1"]),
    ('{"recipient": "P003"}\n[1, 2]\n', ["line 2", "not a JSON object"]),
    ("\ufeff\ud800", ["UTF-8"]),
])
def test_jsonl_files_that_are_not_clean_json_are_refused(cli_ledger, capsys, tmp_path, content, words):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content.encode("utf-8", errors="surrogatepass"))
    code, err = import_file(capsys, cli_ledger, path)
    assert code == 2
    for word in words:
        assert word in err, err


def test_a_field_given_both_in_the_object_and_flat_is_refused(cli_ledger, capsys, tmp_path):
    row = {**GOOD_ROW, "evidence": {"consent_reference": "paper form"}}
    path = tmp_path / "both.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    code, err = import_file(capsys, cli_ledger, path)
    assert code == 2 and "evidence.consent_reference: is given twice" in err


# ---- paths cannot leave their folder -----------------------------------------------------------------------

def assessment_file(folder: Path, service_ref, evidence: list[str]) -> Path:
    answers = [{"item": item, "answer": "met"} for item in service_ref.checklist]
    answers[0]["evidence_files"] = evidence
    path = folder / "assessment.json"
    path.write_text(json.dumps({"answers": answers}), encoding="utf-8")
    return path


@pytest.mark.parametrize("evidence", ["../outside.txt", "ok/../../outside.txt", "{outside}", "~/outside.txt",
                                      "link-out.txt", "link-folder/outside.txt", "loop-a"])
def test_evidence_named_in_an_assessment_file_stays_in_its_folder(cli_ledger, capsys, tmp_path, evidence):
    inbox = tmp_path / "inbox"
    (inbox / "ok").mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("the operator's private notes")
    (inbox / "link-out.txt").symlink_to(outside)
    (inbox / "link-folder").symlink_to(tmp_path)
    (inbox / "loop-a").symlink_to(inbox / "loop-b")
    (inbox / "loop-b").symlink_to(inbox / "loop-a")
    with LedgerService.open(cli_ledger) as service:
        ref = service.ref
        evidence_folder = service.evidence_folder
    source = assessment_file(inbox, ref, [evidence.format(outside=outside)])
    before = file_state(cli_ledger)
    code, _, err = run_cli(capsys, "--db", cli_ledger, "vendor", "assess", "P001", "--from-json", source)
    assert code == 2 and f"answers.{next(iter(ref.checklist))}.evidence_files" in err, err
    assert file_state(cli_ledger) == before
    assert not evidence_folder.exists()


def test_evidence_inside_the_folder_is_kept(cli_ledger, capsys, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "sub" / "policy.pdf").write_bytes(b"%PDF policy")
    with LedgerService.open(cli_ledger) as service:
        ref = service.ref
    source = assessment_file(inbox, ref, ["./sub/../sub/policy.pdf"])
    code, out, err = run_cli(capsys, "--db", cli_ledger, "vendor", "assess", "P001", "--from-json", source)
    assert code == 0, err
    with LedgerService.open(cli_ledger) as service:
        (kept,) = service.evidence_folder.iterdir()
    assert kept.read_bytes() == b"%PDF policy"


def test_a_planted_link_in_the_evidence_folder_is_not_written_through(fresh_ledger, parties, tmp_path):
    import hashlib
    evidence = tmp_path / "report.pdf"
    evidence.write_bytes(b"audit report")
    digest = hashlib.sha256(b"audit report").hexdigest()
    victim = tmp_path / "victim.txt"
    fresh_ledger.evidence_folder.mkdir()
    (fresh_ledger.evidence_folder / digest).symlink_to(victim)  # dangling: a copy would create the victim
    answers = [{"item": item, "answer": "met"} for item in fresh_ledger.ref.checklist]
    answers[0]["evidence_files"] = [str(evidence)]
    fresh_ledger.record_assessment(parties.contractor.party_id, {"answers": answers})
    kept = fresh_ledger.evidence_folder / digest
    assert not victim.exists()
    assert not kept.is_symlink() and kept.read_bytes() == b"audit report"


def test_an_evidence_folder_that_is_a_link_is_refused(fresh_ledger, parties, tmp_path):
    evidence = tmp_path / "report.pdf"
    evidence.write_bytes(b"audit report")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fresh_ledger.evidence_folder.symlink_to(elsewhere)
    answers = [{"item": item, "answer": "met"} for item in fresh_ledger.ref.checklist]
    answers[0]["evidence_files"] = [str(evidence)]
    before = fingerprint(fresh_ledger)
    with pytest.raises(LedgerError, match="evidence folder"):
        fresh_ledger.record_assessment(parties.contractor.party_id, {"answers": answers})
    assert fingerprint(fresh_ledger) == before and list(elsewhere.iterdir()) == []


@fuzz(150)
@given(name=hostile_text)
def test_report_file_names_made_from_data_stay_in_their_folder(tmp_path, name):
    from ledger.reports.output import default_path
    from ledger.reports.safety import inside, safe_file_name
    assert default_path(name, "md", tmp_path).parent == tmp_path
    assert inside(tmp_path, name).parent == tmp_path.resolve()
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", safe_file_name(name)) and not safe_file_name(name).startswith(".")


def test_report_outputs_stay_where_they_are_asked(cli_ledger, capsys, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    for identifier in ("../../escape", "/etc/passwd", "..", "a/../../b"):
        code, stdout, err = run_cli(capsys, "--db", cli_ledger, "report", "subject", identifier, "--out", out)
        assert code == 0, err
    assert all(path.parent == out for path in tmp_path.rglob("*.md"))
    # Written where asked, one file each: none went to a folder above, which the line above cannot see.
    assert len(list(out.glob("*.md"))) == 4, sorted(p.name for p in out.iterdir())
    for target in (".", "..", "/"):
        code, _, err = run_cli(capsys, "--db", cli_ledger, "report", "regulator", "--out", target, "--no-verify")
        assert code == 2 and "out:" in err, err
