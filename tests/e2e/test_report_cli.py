"""`disclosure-ledger report ...` end to end: every format written to the path asked for, clear
errors naming the field, and the regulator package checked by its own standalone verifier after
unzipping it, and failing once one byte of one entry is changed."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.reports.regulator import commitment_holds


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report-cli") / "sample.db"
    assert main(["--db", str(path), "demo"]) == 0
    return path


@pytest.fixture
def ledger(demo_master, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(tmp_path / "keys"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ledger.db"
    shutil.copyfile(demo_master, path)
    return path


@pytest.fixture
def signed(ledger) -> Path:
    assert main(["--db", str(ledger), "key", "init"]) == 0
    return ledger


def run_verifier(folder: Path, *files: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "standalone_verifier.py", "--checkpoint", "checkpoint.txt",
                           "--key", "verifier-key.txt", *(files or ("entries.jsonl",))],
                          cwd=folder, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json"])
def test_annual_writes_each_format_where_asked(ledger, tmp_path, capsys, fmt):
    out = tmp_path / f"review.{fmt}"
    assert main(["--db", str(ledger), "report", "annual", "--fiscal-year", "2025", "--format", fmt,
                 "--out", str(out), "--no-verify"]) == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        data = json.loads(text)
        assert data["period"]["start"] == "2025-04-01" and data["period"]["end"] == "2026-03-31"
        assert data["counts"]["releases"] == len([r for r in data["rows"] if r["status"] != "voided"])
    elif fmt == "csv":
        assert text.startswith("seq,first_day,last_day")
    else:
        assert "FY2025 (2025-04-01..2026-03-31)" in text


def test_annual_default_name_is_in_the_current_folder(ledger, tmp_path, capsys):
    assert main(["--db", str(ledger), "report", "annual", "--year", "2026", "--no-verify"]) == 0
    assert (tmp_path / "annual-review-2026.md").is_file()


@pytest.mark.parametrize("argv, field", [
    (["annual"], "period"),
    (["annual", "--year", "2026", "--fiscal-year", "2026"], "period"),
    (["annual", "--from", "2026-05-01"], "until"),
    (["annual", "--from", "2026-05-01", "--until", "2026-13-01"], "until"),
    (["annual", "--year", "2026", "--format", "docx"], "format"),
    (["subject", "S1", "--lang", "fr"], "lang"),
    (["regulator", "--basis", "bribery"], "basis"),
    (["regulator", "--item", "shoe_size"], "item"),
    (["regulator", "--country", "XX"], "country"),
])
def test_errors_name_the_field_and_never_show_a_traceback(ledger, capsys, argv, field):
    assert main(["--db", str(ledger), "report", *argv]) == 2
    err = capsys.readouterr().err
    assert f"error: {field}:" in err and "Traceback" not in err


def test_subject_report_in_japanese(ledger, tmp_path, capsys):
    out = tmp_path / "answer.md"
    assert main(["--db", str(ledger), "report", "subject", "S2024-0908", "--lang", "ja", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "個人データの第三者提供記録の開示" in text and "S2024-0908" in text


def test_subject_default_file_name_cannot_leave_the_folder(ledger, tmp_path, capsys):
    assert main(["--db", str(ledger), "report", "subject", "../../evil/name", "--format", "json"]) == 0
    written = [p for p in tmp_path.iterdir() if p.name.startswith("subject-report")]
    assert len(written) == 1 and written[0].parent == tmp_path
    assert json.loads(written[0].read_text())["identifier"] == "../../evil/name"


def test_regulator_package_verifies_after_unzipping_and_fails_when_tampered(signed, tmp_path, capsys):
    old = tmp_path / "package.zip"
    old.write_bytes(b"an older zip anyone could read")
    old.chmod(0o644)
    assert main(["--db", str(signed), "report", "regulator", "--subject", "S2024-0908", "--out",
                 str(tmp_path / "package"), "--no-verify"]) == 0
    archive = tmp_path / "package.zip"
    assert archive.is_file()
    # it holds a person's identifier: the owner's only
    assert (archive.stat().st_mode & 0o777, (tmp_path / "package").stat().st_mode & 0o777) == (0o600, 0o700)
    assert all(p.stat().st_mode & 0o077 == 0 for p in (tmp_path / "package").rglob("*") if p.is_file())
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as zipped:
        assert all(name.startswith("package/") and ".." not in name for name in zipped.namelist())
        zipped.extractall(unpacked)
    folder = unpacked / "package"
    names = {p.name for p in folder.iterdir()}
    assert {"README.txt", "summary.html", "summary.pdf", "entries.jsonl", "proofs", "checkpoint.txt",
            "verifier-key.txt", "standalone_verifier.py"} <= names

    passed = run_verifier(folder)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "verify against the checkpoint: OK" in passed.stdout
    proofs = sorted(str(p.relative_to(folder)) for p in (folder / "proofs").iterdir())
    assert run_verifier(folder, *proofs).returncode == 0

    lines = (folder / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    disclosures = [e for e in entries if e["kind"] == "disclosure.recorded"]
    assert disclosures and all(e["vault"] for e in disclosures)
    assert all(v["value"] == "S2024-0908" for e in entries for v in e["vault"])   # no one else's
    assert all(commitment_holds(e) for e in entries)
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "python3 standalone_verifier.py --checkpoint checkpoint.txt --key verifier-key.txt entries.jsonl" in readme

    # One byte of one entry's leaf changed: the verifier names it and fails.
    target = disclosures[0]
    leaf = bytearray(base64.b64decode(target["leaf"]))
    leaf[leaf.index(b'"first_day":"') + 13] ^= 0x01
    target["leaf"] = base64.b64encode(bytes(leaf)).decode()
    (folder / "entries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    failed = run_verifier(folder)
    assert failed.returncode == 1
    assert f"seq {target['seq']}" in failed.stdout + failed.stderr or "altered" in failed.stdout


def test_regulator_package_reveals_nothing_outside_the_filter(signed, tmp_path, capsys):
    assert main(["--db", str(signed), "report", "regulator", "--recipient", "kyoto-police", "--out",
                 str(tmp_path / "police"), "--no-verify"]) == 0
    entries = [json.loads(line) for line in (tmp_path / "police" / "entries.jsonl").read_text().splitlines()]
    recorded = [e for e in entries if e["kind"] == "disclosure.recorded"]
    assert recorded and all(e["fields"]["body"]["recipient"] == "kyoto-police" for e in recorded)
    assert all(e["vault"] == [] for e in entries)          # the query asked for no vault value
    assert run_verifier(tmp_path / "police").returncode == 0
    # a folder that already holds files is refused
    assert main(["--db", str(signed), "report", "regulator", "--out", str(tmp_path / "police")]) == 2
    assert "out:" in capsys.readouterr().err


def test_regulator_package_without_a_key_says_so_plainly(ledger, tmp_path, capsys):
    assert main(["--db", str(ledger), "report", "regulator", "--basis", "law", "--out",
                 str(tmp_path / "unsigned"), "--no-verify"]) == 0
    captured = capsys.readouterr()
    assert "no signed checkpoint" in captured.err
    readme = (tmp_path / "unsigned" / "README.txt").read_text()
    assert "no signing key" in readme and not (tmp_path / "unsigned" / "checkpoint.txt").exists()
