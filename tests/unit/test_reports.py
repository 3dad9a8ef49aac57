"""Reports on the frozen sample ledger: golden Markdown, HTML, CSV and JSON compared exactly, the
PDF's text checked for the key figures, the subject report in both languages, and the safety of
outputs (escaping, formula cells, file names, paths).

Set REPORTS_GOLDEN_UPDATE=1 to rewrite the golden files after an intended change."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ledger.errors import ValidationError
from ledger.reports import render
from ledger.reports.annual import CSV_COLUMNS, annual_document, build_annual
from ledger.reports.output import output_path, write_report
from ledger.reports.period import calendar_year, choose, fiscal_year
from ledger.reports.safety import csv_cell, inside, safe_file_name
from ledger.reports.subject import build_subject, subject_document
from ledger.service import LedgerService

GOLDEN = Path(__file__).parent / "reports_golden"
UPDATE = os.environ.get("REPORTS_GOLDEN_UPDATE") == "1"
FIXED_NOW = datetime(2026, 6, 15, 3, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return FIXED_NOW


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory) -> Path:
    """The sample ledger, built with a fixed clock and salts and ledger id from a counter, so its
    hashes, and so every report on it, are the same on every run."""
    import ledger.service
    import ledger.vault
    from ledger.demo import build_demo

    counter = itertools.count()
    path = tmp_path_factory.mktemp("reports") / "ledger.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCLOSURE_LEDGER_KEYS", str(path.parent / "keys"))
        mp.setattr(ledger.vault, "new_salt",
                   lambda: hashlib.sha256(f"reports:{next(counter)}".encode()).digest()[:16])
        mp.setattr(ledger.service.secrets, "token_hex", lambda n=32: ("7e57" * 16)[: 2 * (n or 32)])
        service = LedgerService.open(path, create=True, operator="Test Operator", clock=fixed_clock)
        build_demo(service)
        service.verify()
        service.close()
    return path


@pytest.fixture
def sample(sample_path, monkeypatch):
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(sample_path.parent / "keys"))
    service = LedgerService.open(sample_path, operator="Test Operator", clock=fixed_clock)
    yield service
    service.close()


@pytest.fixture(scope="module")
def annual_2026(sample_path):
    service = LedgerService.open(sample_path, operator="Test Operator", clock=fixed_clock)
    try:
        review = build_annual(service, calendar_year(2026), verify=False)
        yield service, review, annual_document(service, review)
    finally:
        service.close()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8", newline="")
        if not UPDATE:
            pytest.fail(f"golden file {name} was missing and has been written; run again")
    with path.open(encoding="utf-8", newline="") as golden:
        assert text == golden.read(), f"{name} differs from its golden file"


# ---- the annual review --------------------------------------------------------------------------

def test_annual_markdown_matches_golden(annual_2026):
    service, review, doc = annual_2026
    check_golden("annual-2026.md", render.markdown(doc))


def test_annual_html_matches_golden(annual_2026):
    _, _, doc = annual_2026
    check_golden("annual-2026.html", render.html(doc))


def test_annual_csv_matches_golden(annual_2026):
    _, review, _ = annual_2026
    check_golden("annual-2026.csv", render.csv_text(review.rows(), CSV_COLUMNS))


def test_annual_json_matches_golden(annual_2026):
    _, review, _ = annual_2026
    check_golden("annual-2026.json", render.json_text(review.as_json()))


def test_annual_counts_agree_with_the_service(annual_2026):
    service, review, _ = annual_2026
    from ledger.domain import DisclosureFilter

    listed = service.disclosures(DisclosureFilter(since=calendar_year(2026).start, until=calendar_year(2026).end,
                                                  include_voided=False), limit=None)
    counts = review.counts()
    assert counts["releases"] == len(listed) > 0
    assert counts["statutory"] + counts["voluntary"] == len(listed)
    assert counts["statutory"] == sum(1 for s in listed if s.statutory)
    assert sum(counts["by_basis"].values()) == len(listed)
    assert counts["voided"] == 1       # the sample voids one release of this year
    kinds = {c.kind for c in review.changes}
    assert {"disclosure.corrected", "disclosure.voided", "subject.erased"} <= kinds


def test_annual_lists_government_releases_and_contractor_standing(annual_2026):
    service, review, doc = annual_2026
    md = render.markdown(doc)
    government = [s for s in review.active if review.kind_of(s) == "government_body"]
    assert government
    section = md.split("Releases to government bodies", 2)[2].split("\n## ")[0]
    for s in government:
        assert f"| {s.seq} |" in section
    statuses = {c.party.party_id: c.status for c in review.contractors}
    assert set(statuses.values()) <= {"approved", "conditional", "expiring", "expired", "rejected", "not_assessed"}
    assert len(statuses) == sum(1 for v in service.vendors())


def test_annual_holds_no_personal_data_of_subjects(annual_2026):
    service, review, doc = annual_2026
    text = render.markdown(doc) + render.html(doc) + render.json_text(review.as_json())
    for s in review.active[:40]:
        for identifier in service.disclosure(s.seq).subjects:
            if identifier != "(erased)":
                assert identifier not in text


def test_annual_pdf_has_the_key_figures_and_pages(annual_2026):
    from pypdf import PdfReader

    _, review, doc = annual_2026
    reader = PdfReader(io.BytesIO(render.pdf(doc)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)   # A4
    assert f"Page 1 / {len(reader.pages)}" in text and f"Page {len(reader.pages)} / {len(reader.pages)}" in text
    assert "Contents" in text and "Integrity" in text
    counts = review.counts()
    assert f"{counts['releases']:,} releases of personal data" in " ".join(text.split())
    assert "Generated 2026-06-15 12:00 JST" in text and "no signed checkpoint" in text


def test_annual_charts_are_inline_svg(annual_2026):
    _, _, doc = annual_2026
    page = render.html(doc)
    assert page.count("<svg") == 2 and "<script" not in page
    assert "Releases per month, by legal basis" in page


def test_the_integrity_section_prints_the_signed_checkpoint(sample, tmp_path):
    sample.create_signing_key()
    review = build_annual(sample, calendar_year(2026), verify=True)
    text = render.markdown(annual_document(sample, review))
    checkpoint = review.integrity.checkpoint_now
    assert checkpoint is not None and checkpoint.size == sample.store.size()
    assert checkpoint.note.splitlines()[0] in text and "intact" in text
    assert sample.verifier_keys()[-1] in text


def test_period_choices_and_their_errors():
    assert fiscal_year(2026, 4).start.isoformat() == "2026-04-01"
    assert fiscal_year(2026, 4).end.isoformat() == "2027-03-31"
    assert fiscal_year(2026, 1).end.isoformat() == "2026-12-31"
    assert choose(since="2026-01-01", until="2026-02-01").label == "2026-01-01..2026-02-01"
    with pytest.raises(ValidationError) as exc:
        choose(year="2026", fiscal="2026")
    assert exc.value.field == "period"
    with pytest.raises(ValidationError) as exc:
        choose(since="2026-02-01", until="2026-01-01")
    assert exc.value.field == "until"
    with pytest.raises(ValidationError) as exc:
        choose(year="twenty")
    assert exc.value.field == "year"


# ---- the subject report ----------------------------------------------------------------------

def _subject_with_statutory_and_voluntary(service) -> str:
    from collections import defaultdict

    kinds = defaultdict(set)
    for s in service.disclosures(limit=None):
        for identifier in service.disclosure(s.seq).subjects:
            kinds[identifier].add(s.statutory)
    return sorted(i for i, k in kinds.items() if k == {True, False} and i != "(erased)")[0]


def test_subject_report_in_english_and_japanese_matches_golden(sample):
    identifier = _subject_with_statutory_and_voluntary(sample)
    for lang in ("en", "ja"):
        report = build_subject(sample, identifier, lang=lang)
        check_golden(f"subject-{lang}.md", render.markdown(subject_document(sample, report)))
    ja = render.html(subject_document(sample, build_subject(sample, identifier, lang="ja")))
    assert 'lang="ja"' in ja and "法令で作成が義務付けられた記録" in ja and "訂正・削除・利用停止" in ja


def test_subject_report_shows_only_that_persons_identifier(sample):
    identifier = _subject_with_statutory_and_voluntary(sample)
    report = build_subject(sample, identifier)
    others = {x for s in report.statutory + report.voluntary for x in sample.disclosure(s.seq).subjects} - {identifier}
    text = render.markdown(subject_document(sample, report)) + render.json_text(report.as_json())
    assert identifier in text
    for other in others:
        assert other not in text
    for s in report.statutory + report.voluntary:
        for value in list(sample.disclosure(s.seq).evidence.values()):
            if len(value) > 6:
                assert value not in text
    assert report.statutory and report.voluntary
    assert all(s.statutory for s in report.statutory) and not any(s.statutory for s in report.voluntary)


def test_an_erased_subjects_report_says_it_was_erased_and_when(sample):
    erasure = next(e for e in (sample.entry(n) for n in range(sample.store.size(), 0, -1))
                   if e.kind == "subject.erased")
    report = build_subject(sample, "the erased person", erasure_seq=erasure.seq)
    md = render.markdown(subject_document(sample, report))
    assert "was erased from the ledger on 2026-06-15" in md and f"entry {erasure.seq}" in md
    assert report.erasure.disclosures
    ja = render.markdown(subject_document(sample, build_subject(sample, "x", lang="ja", erasure_seq=erasure.seq)))
    assert "消去されました" in ja
    with pytest.raises(ValidationError) as exc:
        build_subject(sample, "x", erasure_seq=2)
    assert exc.value.field == "erasure"


def test_an_unknown_subject_is_a_report_that_says_so(sample):
    report = build_subject(sample, "S9999-0000")
    assert "No record in the ledger names S9999-0000" in render.markdown(subject_document(sample, report))


# ---- safety of outputs -------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_html_escapes_a_party_named_like_a_script(fresh_ledger, parties):
    party = fresh_ledger.register_party({
        "name": SCRIPT, "kind": "third_party", "country": "JP", "address": "<img src=x onerror=alert(2)>",
        "representative": "=cmd|' /C calc'!A0"})
    fresh_ledger.record_disclosure({
        "recipient": party.party_id, "date": "2026-06-01", "subjects": ["KY-0001"], "data_items": ["name"],
        "purpose": "affiliate_provision_with_consent", "basis": "consent",
        "evidence": {"consent_reference": "C-1", "consent_date": "2026-05-01"}})
    review = build_annual(fresh_ledger, calendar_year(2026), verify=False)
    page = render.html(annual_document(fresh_ledger, review))
    assert SCRIPT not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    subject_page = render.html(subject_document(fresh_ledger, build_subject(fresh_ledger, "KY-0001")))
    assert SCRIPT not in subject_page and "&lt;script&gt;" in subject_page and "&lt;img src=x" in subject_page
    md = render.markdown(annual_document(fresh_ledger, review))
    assert SCRIPT not in md and "\\<script\\>" in md
    rows = list(csv.DictReader(io.StringIO(render.csv_text(
        build_subject(fresh_ledger, "KY-0001").rows(), ("recipient_name", "recipient_representative")))))
    assert rows[0]["recipient_representative"].startswith("'=")


def test_csv_cells_that_start_a_formula_are_neutralised():
    for dangerous in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"):
        assert csv_cell(dangerous) == "'" + dangerous
    assert csv_cell("Kyoto") == "Kyoto" and csv_cell(None) == "" and csv_cell(["a", "b"]) == "a;b"
    text = render.csv_text([{"name": "=HYPERLINK(\"http://x\")", "n": 3}], ("name", "n"))
    assert next(csv.reader(io.StringIO(text.splitlines()[1])))[0].startswith("'=")


def test_file_names_are_sanitised_and_paths_stay_in_their_folder(tmp_path):
    assert safe_file_name("../../etc/passwd") == "etc_passwd"
    assert safe_file_name("subject-report-a/b\\c:d*e?.md") == "subject-report-a_b_c_d_e_.md"
    assert safe_file_name("....") == "report"
    assert "/" not in safe_file_name("x/" * 80) and len(safe_file_name("y" * 500)) <= 100
    assert inside(tmp_path, "../escape.txt") == (tmp_path / "escape.txt").resolve()
    default = output_path(None, "subject-report-../../x-en", "md", tmp_path)
    assert default.parent == tmp_path and "/" not in default.name and default.suffix == ".md"
    with pytest.raises(ValidationError) as exc:
        output_path(str(tmp_path / "missing" / "r.md"), "r", "md")
    assert exc.value.field == "out"
