"""End to end: the `vendor` commands and `disclose --override-reason`, through `ledger.cli.main([...])`.

The ledger is built once through the service with a test clock (assessments made in the past,
so that every status and every kind of due item exists), copied for each test, and the command
line then runs under freezegun on 2026-06-15 (12:00 in Tokyo). Every refusal must exit 2 with an
`error:` line naming the field, never a traceback, and leave the ledger as it was.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from freezegun import freeze_time

import ledger.cli as cli_module
from ledger.cli import main
from ledger.service import LedgerService

TODAY = "2026-06-15"
NOW = datetime(2026, 6, 15, 3, 0, tzinfo=timezone.utc)  # 12:00 in Tokyo


# ---- helpers ------------------------------------------------------------------------------------

@dataclass
class Run:
    code: int
    out: str
    err: str


def ok(result: Run) -> Run:
    assert result.code == 0, f"exit {result.code}: {result.err}"
    return result


def refused(result: Run, *words: str) -> Run:
    assert result.code == 2, f"exit {result.code}; out={result.out!r} err={result.err!r}"
    assert result.err.lstrip().startswith("error:"), result.err
    for word in words:
        assert word.lower() in result.err.lower(), (word, result.err)
    return result


def entries(path: Path) -> list[tuple]:
    """The entries, read behind the service (to prove a refusal wrote nothing)."""
    with closing(sqlite3.connect(str(path))) as conn:
        return conn.execute("SELECT * FROM entry ORDER BY 1").fetchall()


def checklist_ids(service: LedgerService) -> list[str]:
    return list(service.ref.checklist)


def answers(ids, **given: str) -> list[dict]:
    """An answer for every item: met, unless named (item id with '_' for '-') otherwise."""
    return [{"item": i, "answer": given.get(i.replace("-", "_"), "met"), "note": "seen on site"} for i in ids]


def contract(reference: str, signed_on: str = "2023-04-01", ends_on: str | None = None) -> dict:
    return {"reference": reference, "signed_on": signed_on, "ends_on": ends_on,
            "clauses": ["security_measures", "audit_rights", "subcontracting_approval",
                        "incident_notification", "return_or_deletion"]}


def party(pid: str, name: str, kind: str, country: str = "JP") -> dict:
    return {"party_id": pid, "name": name, "kind": kind, "country": country,
            "address": f"{pid} street, Kyoto", "representative": "Representative " + pid}


def release(recipient: str, day: str, subject: str, **extra) -> dict:
    data = {"recipient": recipient, "date": day, "subjects": [subject], "data_items": ["name", "email"],
            "purpose": "business_communication", "basis": "outsourcing",
            "evidence": {"contract_reference": "CT-" + recipient}, "method": "sftp"}
    data.update(extra)
    return data


class Clock:
    """The service's clock while the ledger is built: moved by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime | str) -> None:
        self.now = datetime.fromisoformat(when.replace("Z", "+00:00")) if isinstance(when, str) else when


# ---- the ledger with every case ---------------------------------------------------------------------

STATUS = {"P001": "approved", "P002": "approved", "P003": "conditional", "P004": "expiring",
          "P005": "expired", "P006": "rejected", "P007": "approved", "P008": "not_assessed"}


def build(path: Path) -> None:
    clock = Clock(datetime(2024, 3, 1, 3, 0, tzinfo=timezone.utc))
    s = LedgerService.open(path, create=True, operator="Builder", clock=clock)
    try:
        ids = checklist_ids(s)
        for data in (party("P001", "Kyoto Mail Delivery", "contractor"),
                     party("P002", "Rakuhoku Printing", "subcontractor"),
                     party("P003", "Gion Call Center", "contractor"),
                     party("P004", "Fushimi Logistics", "contractor"),
                     party("P005", "Old Archive Storage", "contractor"),
                     party("P006", "Nishijin Data", "contractor"),
                     party("P007", "Cloudnine Hosting", "contractor", "US"),
                     party("P008", "Arashiyama Surveys", "contractor"),
                     party("P009", "Heian Books", "third_party")):
            s.register_party(data)
        # expired: assessed 2024-03-01, valid until 2025-03-01; its contract ended 2026-03-31
        s.record_contractor("P005", {"service": "paper archive", "data_items": ["name"],
                                     "contract": contract("CT-P005", "2023-04-01", "2026-03-31")})
        s.record_assessment("P005", {"assessor": "Sato", "answers": answers(ids)})
        # expiring: assessed 2025-07-01, valid until 2026-07-01
        clock.set("2025-07-01T03:00:00Z")
        s.record_contractor("P004", {"service": "parcel delivery", "data_items": ["name", "address"],
                                     "contract": contract("CT-P004")})
        s.record_assessment("P004", {"assessor": "Sato", "answers": answers(ids)})
        # conditional, its conditions due 2025-11-30 (overdue now), valid until 2026-09-01
        clock.set("2025-09-01T03:00:00Z")
        s.record_contractor("P003", {"service": "call centre", "data_items": ["name", "phone"],
                                     "contract": contract("CT-P003")})
        s.record_assessment("P003", {"assessor": "Sato", "answers": answers(ids, OR_01="partly_met")})
        clock.set("2026-06-01T03:00:00Z")
        s.record_contractor("P001", {
            "service": "newsletter mailing", "data_items": ["name", "email"], "contract": contract("CT-P001"),
            "certifications": [{"scheme": "privacymark", "expires_on": "2026-07-01", "number": "21000123"},
                               {"scheme": "iso27001", "expires_on": "2028-01-31"}]})
        s.record_assessment("P001", {"assessor": "Sato", "answers": answers(ids)})
        s.record_contractor("P002", {"service": "printing", "data_items": ["name"], "contract": contract("CT-P002"),
                                     "works_for": "P001", "engagement_approved": True})
        s.record_assessment("P002", {"assessor": "Sato", "answers": answers(ids)})
        s.record_contractor("P006", {"service": "data entry", "data_items": ["name"], "contract": contract("CT-P006")})
        s.record_assessment("P006", {"assessor": "Sato", "answers": answers(ids, TS_01="not_met")})
        s.record_contractor("P007", {"service": "cloud hosting", "data_items": ["name", "email"],
                                     "contract": contract("CT-P007"), "equivalent_measures": True,
                                     "measures_checked_on": "2025-06-01"})
        s.record_assessment("P007", {"assessor": "Sato", "answers": answers(ids)})
        clock.set(NOW)
        for number in range(1, 7):
            s.record_disclosure(release("P001", f"2026-06-0{number + 1}", f"learner-{number}"))
        s.record_disclosure(release("P005", "2026-05-01", "learner-9", override_reason="archive move agreed by the CEO"))
    finally:
        s.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    build(path)
    return path


@pytest.fixture
def db(template, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DISCLOSURE_LEDGER_OPERATOR", "e2e-operator")
    monkeypatch.delenv("DISCLOSURE_LEDGER_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ledger.db"
    shutil.copyfile(template, path)
    return path


@pytest.fixture
def cli(capsys, db):
    with freeze_time("2026-06-15 03:00:00"):
        def run(*argv) -> Run:
            capsys.readouterr()
            code = main(["--db", str(db), *[str(a) for a in argv]])
            out, err = capsys.readouterr()
            assert "Traceback" not in out and "Traceback" not in err, err
            return Run(code, out, err)
        yield run


@pytest.fixture
def ids(template) -> list[str]:
    with LedgerService.open(template, operator="reader") as s:
        return checklist_ids(s)


def write_json(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def new_contractor(cli, pid: str = "P010", kind: str = "contractor", country: str = "JP") -> None:
    ok(cli("party", "add", "--id", pid, "--name", f"New Vendor {pid}", "--kind", kind, "--country", country,
           "--address", "9 Horikawa, Kyoto", "--representative", "Mori Ken"))


# ---- help ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["register"], ["list"], ["show"], ["assess"], ["due"]],
                         ids=lambda c: " ".join(c) or "vendor")
def test_vendor_help(command, capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["--db", str(tmp_path / "none.db"), "vendor", *command, "--help"])
    assert exited.value.code in (0, None)
    out, err = capsys.readouterr()
    assert out.startswith("usage: disclosure-ledger vendor") and err == ""
    assert not (tmp_path / "none.db").exists()


def test_vendor_without_action_is_a_usage_error(cli):
    refused(cli("vendor"), "required")


# ---- register -------------------------------------------------------------------------------------------

def test_register_with_options(cli, db):
    new_contractor(cli, "P010")
    result = ok(cli("vendor", "register", "P010", "--service", "exam marking", "--item", "name,email",
                    "--item", "learning_records", "--contract-ref", "CT-2026-10", "--signed-on", "2026-05-01",
                    "--ends-on", "2028-04-30", "--clause", "security_measures", "--clause", "audit_rights",
                    "--cert", "privacymark:2027-03-31:21000999", "--cert", "ISO27001:2028-01-31",
                    "--reason", "new vendor for the summer exams"))
    assert "register version 1 of P010" in result.out
    assert "[x] security_measures" in result.out and "[ ] incident_notification" in result.out
    assert "PrivacyMark (JIS Q 15001) no. 21000999, expires 2027-03-31" in result.out
    shown = json.loads(ok(cli("vendor", "show", "P010", "--json")).out)
    reg = shown["register"]
    assert reg["service"] == "exam marking" and reg["data_items"] == ["name", "email", "learning_records"]
    assert reg["contract"]["reference"] == "CT-2026-10" and reg["contract"]["ends_on"] == "2028-04-30"
    assert reg["contract"]["clauses"]["audit_rights"] is True and reg["contract"]["clauses"]["gdpr_art28"] is False
    assert [(c["scheme"], c["expires_on"], c["number"]) for c in reg["certifications"]] == [
        ("privacymark", "2027-03-31", "21000999"), ("iso27001", "2028-01-31", None)]
    assert shown["status"] == "not_assessed" and shown["assessments"] == []

    # a subcontractor by the contractor's exact name; a foreign one on equivalent measures
    new_contractor(cli, "P011", kind="subcontractor")
    result = ok(cli("vendor", "register", "P011", "--service", "envelope printing", "--item", "name",
                    "--contract-ref", "CT-S1", "--signed-on", "2026-06-01", "--works-for", "New Vendor P010",
                    "--engagement-approved"))
    assert "works for P010 (New Vendor P010); engagement approved" in result.out
    new_contractor(cli, "P012", country="SG")
    result = ok(cli("vendor", "register", "P012", "--service", "analytics", "--item", "email",
                    "--equivalent-measures", "--measures-checked-on", "2026-01-10"))
    assert "last checked 2026-01-10, next check due 2027-01-10" in result.out

    # a second version
    result = ok(cli("vendor", "register", "P010", "--service", "exam marking and printing", "--item", "name",
                    "--reason", "scope extended"))
    assert "register version 2 of P010" in result.out
    ok(cli("verify"))


def test_register_from_json(cli, db, tmp_path):
    new_contractor(cli, "P010")
    source = write_json(tmp_path, "register.json", {
        "service": "配送業務", "data_items": ["name", "address"],
        "contract": {"reference": "CT-J1", "signed_on": "2026-04-01", "ends_on": "2027-03-31",
                     "clauses": {"security_measures": True, "return_or_deletion": True}},
        "certifications": [{"scheme": "soc2", "expires_on": "2026-12-31"}]})
    result = ok(cli("vendor", "register", "P010", "--from-json", source, "--reason", "yearly renewal"))
    assert "register version 1 of P010" in result.out and "配送業務" in result.out
    reg = json.loads(ok(cli("vendor", "show", "P010", "--json")).out)["register"]
    assert reg["contract"]["clauses"]["return_or_deletion"] is True and reg["certifications"][0]["scheme"] == "soc2"

    before = entries(db)
    refused(cli("vendor", "register", "P010", "--from-json", source, "--service", "x"), "--from-json", "--service")
    refused(cli("vendor", "register", "P010", "--from-json", write_json(tmp_path, "list.json", [1])), "object")
    assert entries(db) == before


# ---- list / show / due ------------------------------------------------------------------------------------

def test_list_shows_every_status(cli):
    result = ok(cli("vendor", "list"))
    lines = {line.split()[0]: line for line in result.out.splitlines()[1:]}
    assert set(lines) == set(STATUS)  # contractors and subcontractors only, not the third party
    for pid, status in STATUS.items():
        assert f" {status} " in lines[pid], (pid, lines[pid])
    assert "2026-06-01  approved     2027-06-01" in lines["P001"]
    assert "2025-07-01  approved     2026-07-01" in lines["P004"]
    assert "2026-03-31" in lines["P005"] and "not registered" in lines["P008"]

    listed = json.loads(ok(cli("vendor", "list", "--json")).out)
    assert {v["party_id"]: v["status"] for v in listed} == STATUS
    by_id = {v["party_id"]: v for v in listed}
    assert by_id["P003"]["latest_assessment"]["outcome"] == "conditional"
    assert by_id["P003"]["latest_assessment"]["condition_deadline"] == "2025-11-30"
    assert by_id["P006"]["latest_assessment"]["outcome"] == "rejected"
    assert by_id["P002"]["works_for"] == "P001" and by_id["P008"]["latest_assessment"] is None


def test_show_a_contractor(cli):
    out = ok(cli("vendor", "show", "Kyoto Mail Delivery")).out  # by exact name
    assert "Kyoto Mail Delivery (P001): contractor, JP; status APPROVED" in out
    assert "subcontractors  P002 (Rakuhoku Printing)" in out
    assert "CT-P001, signed 2023-04-01, no end date" in out and "[x] audit_rights" in out
    assert "[ ] gdpr_art28" in out
    assert "PrivacyMark (JIS Q 15001) no. 21000123, expires 2026-07-01 (expiring soon)" in out
    assert "entry" in out and "assessed 2026-06-01 by Sato: APPROVED (score 100%)" in out
    assert "valid until   2027-06-01 (next review 2027-05-02)" in out
    assert "Received: 6 disclosure(s); the latest 5:" in out
    assert "2026-06-07" in out and "2026-06-02" not in out.split("Received:")[1].split("Needs attention")[0]
    assert "certification_expiring" in out.split("Needs attention:")[1]

    out = ok(cli("vendor", "show", "P002")).out
    assert "works for P001 (Kyoto Mail Delivery); engagement approved" in out
    out = ok(cli("vendor", "show", "P003")).out
    assert "CONDITIONAL" in out and "to be met by 2025-11-30" in out and "OR-01 partly met" in out
    assert "conditions_overdue" in out
    out = ok(cli("vendor", "show", "P007")).out
    assert "relies on equivalent measures" in out and "next check due 2026-06-01 (OVERDUE)" in out
    out = ok(cli("vendor", "show", "P005")).out
    assert "status EXPIRED" in out and "ends 2026-03-31 (ENDED)" in out and "Received: 1 disclosure(s):" in out
    assert "contract_ended" in out and "override" in out
    out = ok(cli("vendor", "show", "P008")).out
    assert "Register: nothing recorded yet" in out and "Assessments: none yet" in out

    shown = json.loads(ok(cli("vendor", "show", "P006", "--json")).out)
    assert shown["status"] == "rejected"
    (rejected,) = shown["assessments"]
    assert rejected["outcome"] == rejected["derived_outcome"] == "rejected"
    assert any(r.startswith("TS-01 not met (critical)") for r in rejected["reasons"])
    assert shown["disclosures"] == {"count": 0, "voided": 0, "latest": []}


def test_due_lists_every_case_by_date(cli):
    result = ok(cli("vendor", "due"))
    assert "today is 2026-06-15" in result.out
    lines = result.out.splitlines()[2:]  # after the summary and the header
    # each line: DUE, KIND, PARTY as "NAME (ID)", DETAIL
    kinds = {(line.split()[1], next(w.strip("()") for w in line.split() if w.startswith("(P"))) for line in lines}
    assert kinds >= {
        ("not_assessed", "P008"), ("rejected", "P006"), ("assessment_overdue", "P005"),
        ("assessment_expiring", "P004"), ("conditions_overdue", "P003"), ("certification_expiring", "P001"),
        ("equivalent_measures_check", "P007"), ("contract_ended", "P005"), ("override", "P005"),
    }, result.out
    dates = [line.split()[0] for line in lines]
    assert dates == sorted(dates, key=lambda d: "" if d == "now" else d)
    assert any("equivalent_measures_check (OVERDUE)" in line for line in lines)

    narrow = json.loads(ok(cli("vendor", "due", "--within", "0", "--json")).out)
    kinds_now = {(d["kind"], d["party_id"]) for d in narrow}
    assert ("assessment_expiring", "P004") not in kinds_now  # 2026-07-01 is beyond today
    assert ("certification_expiring", "P001") not in kinds_now
    assert ("conditions_overdue", "P003") in kinds_now and ("override", "P005") in kinds_now
    wide = json.loads(ok(cli("vendor", "due", "--within", "400", "--json")).out)
    assert ("assessment_expiring", "P001") in {(d["kind"], d["party_id"]) for d in wide}
    refused(cli("vendor", "due", "--within", "-1"), "within")
    refused(cli("vendor", "due", "--within", "soon"), "--within")


# ---- assess --from-json ---------------------------------------------------------------------------------------

def test_assess_from_json_outcomes(cli, db, ids, tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "policy.pdf").write_bytes(b"%PDF-1.4 basic policy")
    approved = answers(ids)
    approved[0]["evidence_files"] = ["evidence/policy.pdf"]  # relative to the JSON file's folder
    source = write_json(tmp_path, "approved.json", {"answers": approved})
    result = ok(cli("vendor", "assess", "P008", "--from-json", source, "--assessor", "Tanaka Yui"))
    assert "APPROVED (score 100%)" in result.out and "valid until 2027-06-15" in result.out
    assert "status now: approved" in result.out
    digest = hashlib.sha256(b"%PDF-1.4 basic policy").hexdigest()
    assert (db.parent / "ledger.db.evidence" / digest).is_file()
    (latest,) = json.loads(ok(cli("vendor", "show", "P008", "--json")).out)["assessments"]
    assert latest["assessor"] == "Tanaka Yui" and latest["assessed_on"] == TODAY
    assert latest["answers"][0]["evidence_files"] == [{"name": "policy.pdf", "sha256": digest}]

    source = write_json(tmp_path, "conditional.json",
                        {"assessor": "Tanaka Yui", "answers": answers(ids, PH_01="partly_met", BP_02="not_met")})
    result = ok(cli("vendor", "assess", "P004", "--from-json", source))
    assert "CONDITIONAL" in result.out and "to be met by 2026-09-13" in result.out  # 90 days
    assert "PH-01 partly met" in result.out and "BP-02 not met" in result.out
    assert "status now: conditional" in result.out

    source = write_json(tmp_path, "rejected.json", {"assessor": "Tanaka Yui", "answers": answers(ids, CT_01="not_met")})
    result = ok(cli("vendor", "assess", "P003", "--from-json", source, "--assessed-on", "2026-06-10"))
    assert "REJECTED" in result.out and "status now: rejected" in result.out
    statuses = {v["party_id"]: v["status"] for v in json.loads(ok(cli("vendor", "list", "--json")).out)}
    assert statuses["P008"] == "approved" and statuses["P004"] == "conditional" and statuses["P003"] == "rejected"
    ok(cli("verify"))


def test_assess_override_needs_a_reason(cli, db, ids, tmp_path):
    before = entries(db)
    source = write_json(tmp_path, "no-reason.json",
                        {"answers": answers(ids, CT_01="not_met"), "override_outcome": "conditional"})
    refused(cli("vendor", "assess", "P008", "--from-json", source), "override_reason")
    assert entries(db) == before

    source = write_json(tmp_path, "reason.json", {
        "answers": answers(ids, CT_01="not_met"), "override_outcome": "conditional",
        "override_reason": "the signed addendum with the missing clause arrives next week",
        "conditions": ["send the signed addendum"], "condition_deadline": "2026-06-30"})
    result = ok(cli("vendor", "assess", "P008", "--from-json", source))
    assert "CONDITIONAL" in result.out and "derived outcome rejected, overridden: the signed addendum" in result.out
    out = ok(cli("vendor", "show", "P008")).out
    assert "rejected; OVERRIDDEN to conditional: the signed addendum" in out
    assert "to be met by 2026-06-30" in out and "send the signed addendum" in out
    assert len(entries(db)) == len(before) + 1


# ---- assess interactively ----------------------------------------------------------------------------------------

class Person:
    """Answers the prompts by what they ask; records every prompt."""

    def __init__(self, ids, *, answer=None, override=None, confirm="y", evidence=None, first_answer=None):
        self.ids = ids
        self.answer = answer or {}
        self.override = override
        self.confirm = confirm
        self.evidence = evidence or {}
        self.first_answer = first_answer
        self.prompts: list[str] = []
        self.tried: set[str] = set()
        self.conditions = list((override or {}).get("conditions", []))

    def __call__(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        item = next((i for i in self.ids if prompt.strip().startswith(i + " ")), None)
        if item is not None and "answer" in prompt:
            if self.first_answer and item not in self.tried:  # an invalid answer first: asked again
                self.tried.add(item)
                return self.first_answer
            self.current = item
            return self.answer.get(item, "m")
        if "note" in prompt:
            return "checked the policy binder" if self.current in self.answer else ""
        if "evidence files" in prompt:
            files = self.evidence.get(self.current)
            if isinstance(files, list):
                return files.pop(0)
            return files or ""
        if "Override" in prompt:
            return "y" if self.override else "n"
        if "Outcome instead" in prompt:
            return self.override["outcome"]
        if "Reason for the override" in prompt:
            return self.override["reason"]
        if "Keep these conditions" in prompt:
            return "n" if self.conditions else ""
        if "condition:" in prompt:
            return self.conditions.pop(0) if self.conditions else ""
        if "Record this assessment" in prompt:
            return self.confirm
        return ""  # defaults: assessor, day assessed, deadline, valid until


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setattr(cli_module, "_stdin_is_terminal", lambda: True)

    def speak(person):
        monkeypatch.setattr(builtins, "input", person)
        return person
    return speak


def test_assess_interactively(cli, db, ids, tmp_path, terminal):
    (tmp_path / "audit.pdf").write_bytes(b"audit report 2026")
    person = terminal(Person(ids, answer={"PH-02": "p", "FE-01": "na"}, first_answer="maybe",
                             evidence={"TS-01": ["missing.pdf", str(tmp_path / "audit.pdf")]}))
    result = ok(cli("vendor", "assess", "P008"))
    out = result.out
    assert "== Technical security measures" in out and "TS-01 [CRITICAL]" in out and "refs: APPI Art." in out
    assert "answer m (met), p (partly met)" in out  # "maybe" was refused and asked again
    assert "no such file: missing.pdf" in out
    assert "Derived outcome: CONDITIONAL" in out and "Score: 98%" in out
    assert "If any critical item is not met, the contractor is rejected" in " ".join(out.split())  # the rule
    assert "PH-02 partly met" in out
    assert any("cannot be edited" in p for p in person.prompts)
    assert "Recorded assessment entry" in out and "status now: conditional" in out
    (view,) = json.loads(ok(cli("vendor", "show", "P008", "--json")).out)["assessments"]
    assert view["assessor"] == "e2e-operator" and view["assessed_on"] == TODAY
    assert view["outcome"] == view["derived_outcome"] == "conditional"
    assert view["condition_deadline"] == "2026-09-13" and view["conditions"][0].startswith("PH-02 partly met")
    by_item = {a["item"]: a for a in view["answers"]}
    assert by_item["FE-01"]["answer"] == "not_applicable" and by_item["PH-02"]["answer"] == "partly_met"
    assert by_item["TS-01"]["evidence_files"] == [
        {"name": "audit.pdf", "sha256": hashlib.sha256(b"audit report 2026").hexdigest()}]
    ok(cli("verify"))


def test_assess_interactively_with_an_override(cli, db, ids, terminal):
    terminal(Person(ids, override={"outcome": "conditional", "reason": "new staff training not yet evidenced",
                                   "conditions": ["show the training records"]}))
    result = ok(cli("vendor", "assess", "P008", "--assessor", "Kimura"))
    assert "Derived outcome: APPROVED" in result.out
    assert "derived outcome approved, overridden: new staff training not yet evidenced" in result.out
    (view,) = json.loads(ok(cli("vendor", "show", "P008", "--json")).out)["assessments"]
    assert view["assessor"] == "Kimura" and view["conditions"] == ["show the training records"]


def test_assess_interactively_not_confirmed_records_nothing(cli, db, ids, terminal):
    before = entries(db)
    terminal(Person(ids, confirm="n"))
    result = ok(cli("vendor", "assess", "P008"))
    assert "Nothing was recorded" in result.out
    assert entries(db) == before


def test_assess_without_a_terminal_or_when_input_ends(cli, db, ids, monkeypatch):
    before = entries(db)
    refused(cli("vendor", "assess", "P008"), "terminal", "--from-json")

    def ends(prompt=""):
        raise EOFError
    monkeypatch.setattr(cli_module, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(builtins, "input", ends)
    refused(cli("vendor", "assess", "P008"), "input ended")
    assert entries(db) == before


# ---- the gate on releases --------------------------------------------------------------------------------------

def test_gated_release_refused_then_forced(cli, db):
    before = entries(db)
    result = refused(cli("disclose", "--recipient", "P006", "--date", "2026-06-12", "--subject", "learner-77",
                         "--item", "name", "--purpose", "business_communication", "--basis", "outsourcing",
                         "--evidence", "contract_reference=CT-P006"), "recipient", "rejected", "--override-reason")
    assert "nothing was recorded" in result.err
    assert entries(db) == before

    result = ok(cli("disclose", "--recipient", "P006", "--date", "2026-06-12", "--subject", "learner-77",
                    "--item", "name", "--purpose", "business_communication", "--basis", "outsourcing",
                    "--evidence", "contract_reference=CT-P006",
                    "--override-reason", "court-ordered hand-over of the scanned forms"))
    seq = len(before) + 1
    assert f"Recorded entry {seq}" in result.out and len(entries(db)) == seq
    shown = ok(cli("show", seq)).out
    assert "OVERRIDE: forced past the register (rejected" in shown
    assert "court-ordered hand-over of the scanned forms" in shown
    gating = json.loads(ok(cli("show", seq, "--json")).out)["gating"]
    assert gating["override"]["failed"] == "rejected"
    due = json.loads(ok(cli("vendor", "due", "--json")).out)
    assert any(d["kind"] == "override" and d["seq"] == seq for d in due)

    # an approved contractor needs no override, and a release to it records the assessment
    refused(cli("disclose", "--recipient", "P001", "--date", "2026-06-12", "--subject", "learner-78",
                "--item", "name", "--purpose", "business_communication", "--basis", "outsourcing",
                "--evidence", "contract_reference=CT-P001", "--override-reason", "just in case"), "override_reason")
    ok(cli("disclose", "--recipient", "P001", "--date", "2026-06-12", "--subject", "learner-78", "--item", "name",
           "--purpose", "business_communication", "--basis", "outsourcing", "--evidence", "contract_reference=CT-P001"))
    assert "justified by assessment entry" in ok(cli("show", seq + 1)).out


def test_gated_release_from_json_with_the_override_option(cli, db, tmp_path):
    source = write_json(tmp_path, "release.json", release("P008", "2026-06-12", "learner-80"))
    before = entries(db)
    refused(cli("disclose", "--from-json", source), "no safeguard assessment", "vendor assess P008")
    assert entries(db) == before
    ok(cli("disclose", "--from-json", source, "--override-reason", "pilot agreed before the assessment"))
    assert len(entries(db)) == len(before) + 1


# ---- bad input ------------------------------------------------------------------------------------------------------

def _assessment(ids, tmp_path, **change):
    data = {"assessor": "Tanaka", "answers": answers(ids)}
    data.update(change)
    return data


BAD_ASSESSMENTS = {
    "unknown item id": (lambda ids, tmp: _assessment(ids, tmp, answers=answers(ids) + [
        {"item": "ZZ-99", "answer": "met"}]), ["answers.ZZ-99", "checklist"]),
    "missing critical answer": (lambda ids, tmp: _assessment(ids, tmp, answers=[
        a for a in answers(ids) if a["item"] != "TS-01"]), ["answers.TS-01", "critical"]),
    "validity in the past": (lambda ids, tmp: _assessment(ids, tmp, assessed_on="2025-01-10",
                                                          valid_until="2026-01-10"), ["valid_until", "past"]),
    "evidence file missing": (lambda ids, tmp: _assessment(ids, tmp, answers=[
        {**a, "evidence_files": ["no-such-file.pdf"]} if a["item"] == "OR-03" else a for a in answers(ids)]),
        ["answers.OR-03.evidence_files", "does not exist"]),
    "unknown answer": (lambda ids, tmp: _assessment(ids, tmp, answers=[
        {**a, "answer": "mostly"} if a["item"] == "PS-01" else a for a in answers(ids)]), ["answers.PS-01", "mostly"]),
    "assessed in the future": (lambda ids, tmp: _assessment(ids, tmp, assessed_on="2026-07-01"), ["assessed_on", "future"]),
}


@pytest.mark.parametrize("case", BAD_ASSESSMENTS, ids=str)
def test_bad_assessment_is_refused(case, cli, db, ids, tmp_path):
    build_data, words = BAD_ASSESSMENTS[case]
    source = write_json(tmp_path, "bad.json", build_data(ids, tmp_path))
    before = entries(db)
    refused(cli("vendor", "assess", "P008", "--from-json", source), *words)
    assert entries(db) == before
    assert not (db.parent / "ledger.db.evidence").exists()


BAD_COMMANDS = {
    "unknown clause": (["vendor", "register", "P008", "--service", "surveys", "--contract-ref", "C",
                        "--signed-on", "2026-01-01", "--clause", "pinky_promise"], ["contract.clauses.pinky_promise"]),
    "unknown certification scheme": (["vendor", "register", "P008", "--service", "surveys", "--cert",
                                      "nist800:2027-01-01"], ["certifications[1].scheme", "nist800", "privacymark"]),
    "malformed certification": (["vendor", "register", "P008", "--service", "surveys", "--cert", "privacymark"],
                                ["certifications", "SCHEME:EXPIRES_ON"]),
    "unknown data item": (["vendor", "register", "P008", "--service", "surveys", "--item", "shoe_size"],
                          ["data_items", "shoe_size"]),
    "subcontractor of nobody": (["vendor", "register", "P002", "--service", "printing", "--works-for", "P404"],
                                ["works_for", "P404"]),
    "register a third party": (["vendor", "register", "P009", "--service", "books"], ["party", "third_party"]),
    "assess a third party": (["vendor", "assess", "P009", "--from-json", "whatever.json"], ["party", "third_party"]),
    "show a third party": (["vendor", "show", "Heian Books"], ["party", "third_party"]),
    "unknown party": (["vendor", "show", "P404"], ["P404"]),
    "assessment file missing": (["vendor", "assess", "P008", "--from-json", "missing.json"], ["missing.json"]),
    "bad assessed-on": (["vendor", "assess", "P008", "--assessed-on", "2026-13-01"], ["assessed_on", "2026-13-01"]),
    "assessed-on in the future": (["vendor", "assess", "P008", "--assessed-on", "2026-06-16"], ["assessed_on", "future"]),
}


@pytest.mark.parametrize("case", BAD_COMMANDS, ids=str)
def test_bad_vendor_command_is_refused(case, cli, db):
    argv, words = BAD_COMMANDS[case]
    before = entries(db)
    refused(cli(*argv), *words)
    assert entries(db) == before
