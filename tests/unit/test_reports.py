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
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ledger.errors import ValidationError
from ledger.reports import render
from ledger.reports.annual import CSV_COLUMNS, annual_document, annual_json, annual_rows, build_annual
from ledger.reports.output import output_path
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
    service, review, _ = annual_2026
    check_golden("annual-2026.csv", render.csv_text(annual_rows(service, review.period), CSV_COLUMNS))


def test_annual_json_matches_golden(annual_2026):
    service, review, _ = annual_2026
    check_golden("annual-2026.json", "".join(render.json_chunks(*annual_json(service, review))))


def _active_in_2026(service):
    from ledger.domain import DisclosureFilter

    listed = service.disclosures(DisclosureFilter(since=calendar_year(2026).start, until=calendar_year(2026).end,
                                                  include_voided=False), limit=None)
    return sorted(listed, key=lambda s: s.seq)


def test_annual_counts_grouped_in_sql_agree_with_counting_every_release(annual_2026):
    service, review, _ = annual_2026
    listed = _active_in_2026(service)
    counts = review.counts
    assert counts.releases == len(listed) > 0
    assert counts.statutory == sum(1 for s in listed if s.statutory) and counts.voluntary == len(listed) - counts.statutory
    assert counts.subjects_named == sum(s.subject_count for s in listed)
    assert counts.by_recipient == Counter(s.recipient_id for s in listed)
    assert counts.statutory_by_recipient == Counter(s.recipient_id for s in listed if s.statutory)
    assert counts.by_basis == Counter(s.basis for s in listed)
    assert counts.by_purpose == Counter(s.purpose for s in listed)
    assert counts.by_data_item == Counter(item for s in listed for item in s.data_items)
    assert counts.cross_border == Counter((s.country, s.route) for s in listed if s.route)
    assert counts.per_month_by_basis == Counter((s.first_day[:7], s.basis) for s in listed)
    assert list(counts.by_basis.values()) == sorted(counts.by_basis.values(), reverse=True)
    assert counts.voided == 1       # the sample voids one release of this year
    kinds = {c.kind for c in review.changes}
    assert {"disclosure.corrected", "disclosure.voided", "subject.erased"} <= kinds


def test_annual_listings_are_the_first_releases_of_their_kind(annual_2026):
    service, review, _ = annual_2026
    listed = _active_in_2026(service)
    assert review.first_releases == tuple(listed[:200])
    government = [s for s in listed if review.parties[s.recipient_id].kind == "government_body"]
    assert review.government == tuple(government) and review.government_total == len(government) > 0
    consent = [s for s in listed if service.ref.bases[s.basis].category == "consent"]
    assert review.consent == tuple(consent) and review.consent_total == len(consent) > 0


def test_long_listings_stop_at_200_rows_and_the_csv_and_json_hold_every_release(fresh_ledger, parties, tmp_path):
    from ledger.reports.annual import write_annual

    fresh_ledger.import_disclosures([{
        "recipient": parties.affiliate.party_id, "date": f"2026-05-{day % 28 + 1:02d}", "subjects": [f"KY-{n}"],
        "data_items": ["name"], "purpose": "affiliate_provision_with_consent", "basis": "consent",
        "evidence": {"consent_reference": f"C-{n}", "consent_date": "2026-04-01"}} for n, day in enumerate(range(205))])
    period = calendar_year(2026)
    md = write_annual(fresh_ledger, period, "md", tmp_path / "review.md", verify=False).read_text(encoding="utf-8")
    for title in ("Consent-based releases", "Releases in the period"):
        section = re.split(rf"\n## \d+\. {title}\n", md)[1].split("\n## ")[0]
        assert "The first 200 of 205 rows; all of them are in the CSV." in section
        assert sum(1 for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()) == 200
    rows = list(csv.DictReader(io.StringIO(
        write_annual(fresh_ledger, period, "csv", tmp_path / "review.csv", verify=False).read_text(encoding="utf-8"))))
    assert len(rows) == 205 and [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)
    data = json.loads(write_annual(fresh_ledger, period, "json", tmp_path / "review.json", verify=False)
                      .read_text(encoding="utf-8"))
    assert len(data["rows"]) == 205 and data["counts"]["releases"] == 205


def test_streamed_json_is_the_same_text_as_json_of_the_whole():
    head = {"report": "x", "counts": {"a": 1}, "names": ["京都", "=1"]}
    for rows in ([], [{"seq": 1, "items": ["a", "b"], "nested": {"k": None}}], [{"seq": n} for n in range(5)]):
        assert "".join(render.json_chunks(head, iter(rows))) == render.json_text({**head, "rows": rows})


def test_a_streamed_report_that_fails_half_way_leaves_no_file(tmp_path):
    def pieces():
        yield "seq\r\n1\r\n"
        raise RuntimeError("the ledger went away")

    with pytest.raises(RuntimeError):
        render.write(tmp_path / "review.csv", pieces())
    assert list(tmp_path.iterdir()) == []


def test_the_size_at_a_moment_is_the_entries_recorded_before_it(fresh_ledger, parties, clock):
    for day in range(1, 8):
        clock.set(f"2026-07-0{day}T09:00:00Z")
        fresh_ledger.record_disclosure({
            "recipient": parties.affiliate.party_id, "date": f"2026-07-0{day}", "subjects": [f"KY-{day}"],
            "data_items": ["name"], "purpose": "affiliate_provision_with_consent", "basis": "consent",
            "evidence": {"consent_reference": "C-1", "consent_date": "2026-06-01"}})
    stamps = [fresh_ledger.entry(seq).recorded_at for seq in range(1, fresh_ledger.store.size() + 1)]
    assert stamps == sorted(stamps)
    for moment in sorted(set(stamps)) + ["2026-07-03T12:00:00.000000Z", "0000", "9999"]:
        assert fresh_ledger.size_at(moment) == sum(1 for stamp in stamps if stamp < moment)


def test_annual_lists_government_releases_and_contractor_standing(annual_2026):
    service, review, doc = annual_2026
    md = render.markdown(doc)
    government = review.government
    assert government
    section = md.split("Releases to government bodies", 2)[2].split("\n## ")[0]
    for s in government:
        assert f"| {s.seq} |" in section
    statuses = {c.party.party_id: c.status for c in review.contractors}
    assert set(statuses.values()) <= {"approved", "conditional", "expiring", "expired", "rejected", "not_assessed"}
    assert len(statuses) == sum(1 for v in service.vendors())


def test_annual_holds_no_personal_data_of_subjects(annual_2026):
    service, review, doc = annual_2026
    text = render.markdown(doc) + render.html(doc) + "".join(render.json_chunks(*annual_json(service, review)))
    for s in review.first_releases[:40]:
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
    assert f"{review.counts.releases:,} releases of personal data" in " ".join(text.split())
    assert "Generated 2026-06-15 12:00 JST" in text and "no signed checkpoint" in text
    # English is set in a Latin font even where a CJK font is installed (which covers Latin too).
    assert not any("CJK" in font for font in _pdf_fonts(reader)), _pdf_fonts(reader)


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


def _japanese_font_installed() -> bool:
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    return bool(subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True).stdout.strip())


def _pdf_fonts(reader) -> set[str]:
    return {str(font["/BaseFont"]) for page in reader.pages
            for font in (page["/Resources"].get("/Font") or {}).values()}


@pytest.mark.skipif(not _japanese_font_installed(),
                    reason="no Japanese font (fc-list :lang=ja finds none): the PDF would draw empty boxes; "
                           ".ci/run installs fonts-noto-cjk")
def test_japanese_subject_report_pdf_is_drawn_in_a_japanese_font(sample):
    from pypdf import PdfReader

    identifier = _subject_with_statutory_and_voluntary(sample)
    reader = PdfReader(io.BytesIO(render.pdf(subject_document(sample, build_subject(sample, identifier, lang="ja")))))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "法令で作成が義務付けられた記録" in text and "訂正・削除・利用停止" in text
    assert any("Noto-Sans-CJK-JP" in font for font in _pdf_fonts(reader)), _pdf_fonts(reader)


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


def test_the_report_bench_gives_every_figure(sample_path, monkeypatch):
    from ledger.reports import bench
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(sample_path.parent / "keys"))
    figures = bench.run(sample_path, 2026)
    assert figures["year"] == 2026 and figures["releases_in_year"] > 0 and figures["assemble_s"] > 0
    for fmt in bench.FORMATS:
        assert figures[f"{fmt}_s"] > 0 and figures[f"{fmt}_bytes"] > 0 and figures[f"{fmt}_peak_mb"] > 0, fmt
    with pytest.raises(ValueError):
        bench.run(sample_path, 2026, runs=0)
