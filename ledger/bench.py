"""`disclosure-ledger bench`: build a ledger of realistic shape in a temporary folder, time every
operation of the product on it, and time the same work done the plainest way next to it (raw
SQLite, raw hashlib, the pymerkle library), so each figure has a ratio "ours / baseline".
Figures, not asserts: the machine decides what is fast. Progress goes to stderr."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from .chain import merkle
from .domain import DisclosureFilter
from .service import LedgerService

BENCH_NOW = datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc)

_PARTIES = [
    ("contractor", "JP", "outsourcing"),
    ("contractor", "JP", "outsourcing"),
    ("subcontractor", "JP", "outsourcing"),
    ("third_party", "JP", "consent"),
    ("affiliate", "JP", "consent"),
    ("government_body", "JP", "law"),
    ("joint_user", "JP", "joint_use"),
    ("contractor", "US", "outsourcing"),
]
_EVIDENCE = {
    "outsourcing": {"contract_reference": "CT-2025-014"},
    "consent": {"consent_reference": "CONSENT-{n}", "consent_date": "{day_before}"},
    "law": {"statute": "Income Tax Act Art. 225"},
    "joint_use": {"published_notice": "https://example.jp/privacy#joint-use"},
}


def _clock() -> datetime:
    return BENCH_NOW


def _register_parties(service: LedgerService, count: int) -> list[tuple[str, str, str]]:
    parties = []
    for i in range(count):
        kind, country, basis = _PARTIES[i % len(_PARTIES)]
        party = service.register_party({
            "name": f"Bench Party {i + 1:03d}", "kind": kind, "country": country,
            "address": f"{i + 1} Karasuma-dori, Kyoto", "representative": None if kind == "government_body" else "Representative",
        })
        if kind in ("contractor", "subcontractor"):
            _approve(service, party.party_id, kind, country, parties)
        parties.append((party.party_id, country, basis))
    return parties


def _approve(service: LedgerService, party_id: str, kind: str, country: str, parties: list) -> None:
    """Register the contract and an approved assessment, so releases pass the gate."""
    contractor = next(p for p, _, b in parties if b == "outsourcing") if kind == "subcontractor" else None
    service.record_contractor(party_id, {
        "service": "processing on the company's behalf", "data_items": ["name", "email"],
        "contract": {"reference": f"CT-{party_id}", "signed_on": "2023-01-01",
                     "clauses": ["security_measures", "incident_notification", "return_or_deletion"]},
        "works_for": contractor, "engagement_approved": kind == "subcontractor",
        "equivalent_measures": country != "JP", "measures_checked_on": "2023-01-01" if country != "JP" else None,
    })
    service.record_assessment(party_id, {
        "assessor": "bench", "assessed_on": "2023-01-01", "valid_until": "2030-12-31",
        "answers": [{"item": item, "answer": "met"} for item in service.ref.checklist],
    })


def synthetic_rows(parties: list[tuple[str, str, str]], count: int, seed: int = 7) -> list[dict]:
    """Disclosures of realistic shape: a few percent bulk, subjects reused across entries."""
    rng = random.Random(seed)
    rows = []
    start = datetime(2024, 1, 1).date()
    for n in range(count):
        party_id, country, basis = parties[rng.randrange(len(parties))]
        day = start + timedelta(days=rng.randrange(1000))
        day_before = (day - timedelta(days=30)).isoformat()
        evidence = {k: x.format(n=n, day_before=day_before) for k, x in _EVIDENCE[basis].items()}
        row = {
            "recipient": party_id, "date": day.isoformat(), "data_items": rng.sample(
                ["name", "email", "student_id", "learning_records", "grade_records", "address", "phone"], 3),
            "purpose": "service_provision_improvement_marketing", "basis": basis, "evidence": evidence,
            "method": "sftp",
        }
        if basis != "consent" and rng.random() < 0.03:
            row["last_day"] = (day + timedelta(days=29)).isoformat()
            row["group_description"] = "students enrolled in the course"
            row["group_count"] = rng.randrange(10, 2000)
        else:
            row["subjects"] = [f"S{rng.randrange(count // 3 + 10):07d}" for _ in range(rng.choice((1, 1, 1, 2)))]
            row["subjects"] = list(dict.fromkeys(row["subjects"]))
        if country != "JP":
            row["route"] = "equivalent_measures"
            row["route_evidence"] = {"measures_reference": "DPA-2025-3", "last_checked_on": day_before}
        if rng.random() < 0.1:
            row["notes"] = f"batch {n}"
        rows.append(row)
    return rows



IMPORT_BATCH = 100_000   # rows per import: a year's batch; keeps the rows in memory bounded
APPENDS = 300            # single durable appends (ours, raw SQLite, pymerkle)
PROOFS = 200             # random proofs of each kind at the full size
LOOKUPS = 30             # subject lookups, browser pages and filtered queries
READ_BATCH = 20_000      # leaves read at a time for the baselines


def peak_memory_mb() -> float:
    """Peak resident memory since the last `reset_peak_memory` (Linux), else since the start."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_memory() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _ms(latencies: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(latencies)
    return round(statistics.median(ordered) * 1000, 3), round(ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000, 3)


def _timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _say(line: str) -> None:
    print(f"[bench] {line}", file=sys.stderr, flush=True)


def _leaf_batches(path: Path, size: int) -> Iterator[list[tuple[int, bytes, bytes]]]:
    """(seq, leaf, leaf_hash) of the first `size` entries of a ledger, a batch at a time."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        after = 0
        while after < size:
            rows = conn.execute("SELECT seq, leaf, leaf_hash FROM entry WHERE seq > ? AND seq <= ? ORDER BY seq "
                                "LIMIT ?", (after, size, READ_BATCH)).fetchall()
            if not rows:
                return
            yield rows
            after = rows[-1][0]
    finally:
        conn.close()


def _plain_root(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH, level by level (a lone last node moves up unchanged)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    sha256, level = hashlib.sha256, hashes
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


@dataclass
class Figures:
    """The figures of one run, with the baselines they are compared with."""
    values: dict

    def put(self, **figures: object) -> None:
        self.values.update(figures)

    def ratio(self, name: str, ours: str, baseline: str) -> None:
        """ours / baseline (for rates: the share of the baseline's speed; for times: how many times as long)."""
        a, b = self.values.get(ours), self.values.get(baseline)
        self.values[name] = round(a / b, 3) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


# ---- our operations ---------------------------------------------------------------------------

def _build(service: LedgerService, entries: int, figures: Figures) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Import `entries` disclosures in batches, then correct and void a few. Returns some subjects,
    and the parties as synthetic_rows takes them."""
    parties = _register_parties(service, 50)
    subjects: list[str] = []
    elapsed, done = 0.0, 0
    while done < entries:
        rows = synthetic_rows(parties, min(IMPORT_BATCH, entries - done), seed=done + 1)
        subjects.extend(s for row in rows[:LOOKUPS * 4] for s in row.get("subjects", ()))
        took, _ = _timed(lambda: service.import_disclosures(rows, source="bench"))
        elapsed += took
        done += len(rows)
        del rows
        _say(f"imported {done:,} / {entries:,} disclosures ({done / elapsed:,.0f} entries/s)")
    figures.put(import_entries_per_s=round(entries / elapsed), import_s=round(elapsed, 3))
    # Corrections and voids: about one in a thousand disclosures.
    rng = random.Random(5)
    first = service.store.size() - entries + 1
    for i in range(max(2, min(entries // 1000, 500))):
        seq = rng.randrange(first, first + entries)
        if i % 2:
            service.void_disclosure(seq, "sent to the wrong recipient")
        else:
            service.correct_disclosure(seq, {"method": "encrypted_email"}, "the method was entered wrongly")
    return subjects, parties


def _durable_appends(service: LedgerService, parties_rows: list[dict], figures: Figures) -> None:
    latencies = [_timed(lambda: service.record_disclosure(row))[0] for row in parties_rows]
    p50, p99 = _ms(latencies)
    figures.put(append_per_s=round(len(latencies) / sum(latencies)), append_p50_ms=p50, append_p99_ms=p99)
    _say(f"durable appends: {figures.values['append_per_s']:,}/s")


def _verify(service: LedgerService, figures: Figures) -> None:
    size = service.store.size()
    elapsed, report = _timed(service.verify)
    figures.put(verify_entries_per_s=round(size / elapsed), verify_s=round(elapsed, 3), verify_ok=report.ok,
                root=report.root)
    _say(f"verify: {size:,} entries in {elapsed:.2f} s ({'intact' if report.ok else 'NOT intact'})")


def _proofs(service: LedgerService, figures: Figures) -> None:
    """Inclusion and consistency proofs at the full size: made by the service, checked by a verifier."""
    rng = random.Random(11)
    size = service.store.size()
    root = bytes.fromhex(service.root_at(size))
    made: dict[str, list[float]] = {"inclusion": [], "consistency": []}
    checked: dict[str, list[float]] = {"inclusion": [], "consistency": []}
    for _ in range(PROOFS):
        seq = rng.randrange(1, size + 1)
        took, proof = _timed(lambda: service.inclusion_proof(seq))
        made["inclusion"].append(took)
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        leaf_hash = bytes.fromhex(proof["leaf_hash"])
        checked["inclusion"].append(_timed(lambda: merkle.verify_inclusion(seq - 1, size, leaf_hash, path, root))[0])
        first = rng.randrange(1, size + 1)
        took, proof = _timed(lambda: service.consistency_proof(first))
        made["consistency"].append(took)
        path = [bytes.fromhex(h) for h in proof["path"]]
        first_root = bytes.fromhex(proof["first_root"])
        checked["consistency"].append(_timed(lambda: merkle.verify_consistency(first, size, first_root, root, path))[0])
    _put_proof_times(figures, "", made, checked)
    _say("proofs: made and checked")


def _put_proof_times(figures: Figures, prefix: str, made: dict[str, list[float]],
                     checked: dict[str, list[float]]) -> None:
    """p50 and p99 of each kind of proof, made and checked, as `<prefix><kind>_proof_p50_ms` ..."""
    for kind in made:
        for what, times in (("proof", made[kind]), ("verify", checked[kind])):
            p50, p99 = _ms(times)
            figures.put(**{f"{prefix}{kind}_{what}_p50_ms": p50, f"{prefix}{kind}_{what}_p99_ms": p99})


def _queries(service: LedgerService, subjects: list[str], figures: Figures) -> None:
    rng = random.Random(13)
    parties = [p.party_id for p in service.parties()]
    lookups = [_timed(lambda: service.subject_disclosures(rng.choice(subjects)))[0] for _ in range(LOOKUPS)]
    pages = [_timed(lambda: service.disclosures(DisclosureFilter(), limit=200))[0] for _ in range(LOOKUPS)]
    # One recipient's releases in one year, every row (no page limit).
    filtered = [_timed(lambda: service.disclosures(DisclosureFilter(
        since=date(2025, 1, 1), until=date(2025, 12, 31), recipient=rng.choice(parties)), limit=None))[0]
        for _ in range(LOOKUPS)]
    for name, latencies in (("subject_lookup", lookups), ("browser_page", pages), ("filtered_query", filtered)):
        p50, p99 = _ms(latencies)
        figures.put(**{f"{name}_p50_ms": p50, f"{name}_p99_ms": p99})
    _say("queries: subject lookup, browser page, filtered query")


def _bytes_by_table(ledger: Path, size: int) -> dict[str, int] | None:
    """Bytes per entry of each table and index (SQLite's dbstat), largest first; None where this
    SQLite is built without it."""
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    return {name: round(total / size) for name, total in rows if total >= size}


def _annual_review(service: LedgerService, figures: Figures) -> None:
    """The annual review as HTML, as `report annual --format html` makes it."""
    from .reports.annual import annual_document, build_annual
    from .reports.period import calendar_year
    from .reports.render import html

    reset_peak_memory()
    elapsed, text = _timed(lambda: html(annual_document(service, build_annual(service, calendar_year(2025)))))
    figures.put(annual_review_html_s=round(elapsed, 3), annual_review_html=f"{len(text):,} characters",
                annual_review_peak_memory_mb=round(peak_memory_mb(), 1))
    _say(f"annual review (HTML): {elapsed:.2f} s")


# ---- the baselines ----------------------------------------------------------------------------

def _raw_sqlite(ledger: Path, size: int, folder: Path, figures: Figures) -> None:
    """The same leaf bytes inserted into a bare table in one transaction, then single-row durable
    commits (WAL, synchronous=FULL): SQLite with no logic."""
    conn = sqlite3.connect(str(folder / "raw.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE entry (seq INTEGER PRIMARY KEY, leaf BLOB NOT NULL, leaf_hash BLOB NOT NULL)")
    elapsed = 0.0
    conn.execute("BEGIN")
    for rows in _leaf_batches(ledger, size):
        elapsed += _timed(lambda: conn.executemany("INSERT INTO entry VALUES (?, ?, ?)", rows))[0]
        last = rows[-1]
    elapsed += _timed(lambda: conn.execute("COMMIT"))[0]
    latencies = []
    for i in range(APPENDS):
        latencies.append(_timed(lambda: conn.execute("INSERT INTO entry VALUES (?, ?, ?)",
                                                     (size + i + 1, last[1], last[2])))[0])
    conn.close()
    p50, p99 = _ms(latencies)
    figures.put(raw_sqlite_insert_entries_per_s=round(size / elapsed), raw_durable_commits_per_s=round(
        len(latencies) / sum(latencies)), raw_durable_p50_ms=p50, raw_durable_p99_ms=p99)
    _say("baseline: raw SQLite")


def _raw_hashing(ledger: Path, size: int, figures: Figures) -> None:
    """SHA-256 leaf hashes of the same leaves and a plain RFC 9162 root: the floor under verify."""
    sha256, hashes, elapsed = hashlib.sha256, [], 0.0
    for rows in _leaf_batches(ledger, size):
        elapsed += _timed(lambda: hashes.extend([sha256(b"\x00" + leaf).digest() for _, leaf, _ in rows]))[0]
    took, root = _timed(lambda: _plain_root(hashes))
    elapsed += took
    figures.put(raw_hash_root_entries_per_s=round(size / elapsed), raw_hash_root_s=round(elapsed, 3),
                raw_root_matches=root.hex() == figures.values.get("root_at_import"))
    _say("baseline: raw hashing")


def _pymerkle(ledger: Path, size: int, folder: Path, figures: Figures) -> None:
    """pymerkle's SqliteTree over the same leaves: bulk appends, single appends, proofs."""
    try:
        import pymerkle
    except ImportError:
        figures.put(pymerkle="n/a (pymerkle not installed: it is a development dependency)")
        return
    tree = pymerkle.SqliteTree(str(folder / "pymerkle.db"))
    try:
        elapsed = 0.0
        for rows in _leaf_batches(ledger, size):
            leaves = [leaf for _, leaf, _ in rows]
            elapsed += _timed(lambda: tree.append_entries(leaves))[0]
        figures.put(pymerkle_bulk_append_entries_per_s=round(size / elapsed),
                    pymerkle_root_matches=tree.get_root(size).hex() == figures.values.get("root_at_import"))
        latencies = [_timed(lambda: tree.append_entry(b"bench %d" % i))[0] for i in range(APPENDS)]
        p50, p99 = _ms(latencies)
        figures.put(pymerkle_append_per_s=round(len(latencies) / sum(latencies)), pymerkle_append_p50_ms=p50,
                    pymerkle_append_p99_ms=p99)
        rng = random.Random(11)
        full = tree.get_size()
        root = tree.get_root()
        made = {"inclusion": [], "consistency": []}
        checked = {"inclusion": [], "consistency": []}
        for _ in range(PROOFS):
            index = rng.randrange(1, full + 1)
            took, proof = _timed(lambda: tree.prove_inclusion(index))
            made["inclusion"].append(took)
            base = tree.get_leaf(index)
            checked["inclusion"].append(_timed(lambda: pymerkle.verify_inclusion(base, root, proof))[0])
            prior = rng.randrange(1, full + 1)
            took, proof = _timed(lambda: tree.prove_consistency(prior))
            made["consistency"].append(took)
            prior_root = tree.get_root(prior)
            checked["consistency"].append(_timed(lambda: pymerkle.verify_consistency(prior_root, root, proof))[0])
        _put_proof_times(figures, "pymerkle_", made, checked)
    finally:
        tree.close()
    _say("baseline: pymerkle")


# ---- the run ----------------------------------------------------------------------------------

def run_bench(entries: int = 100_000) -> dict:
    """Run every measure, print the table, and return the figures."""
    figures = Figures({"entries": entries})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="disclosure-ledger-bench-") as name:
        folder = Path(name)
        path = folder / "bench.db"
        reset_peak_memory()
        service = LedgerService.open(path, create=True, operator="bench", clock=_clock)
        try:
            subjects, parties = _build(service, entries, figures)
            imported = service.store.size()
            figures.put(root_at_import=service.root_at(imported))
            _durable_appends(service, synthetic_rows(parties, APPENDS, seed=entries + 1), figures)
            _verify(service, figures)
            _proofs(service, figures)
            _queries(service, subjects, figures)
            figures.put(size=service.store.size())
        finally:
            service.close()
        figures.put(bytes_per_entry=round(path.stat().st_size / figures.values["size"]),
                    bytes_per_entry_by_table=_bytes_by_table(path, figures.values["size"]),
                    peak_memory_mb=round(peak_memory_mb(), 1))
        _raw_sqlite(path, imported, folder, figures)
        _raw_hashing(path, imported, figures)
        _pymerkle(path, imported, folder, figures)
        service = LedgerService.open(path, operator="bench", clock=_clock)
        try:
            _annual_review(service, figures)
        finally:
            service.close()
    figures.ratio("import_vs_raw_sqlite", "import_entries_per_s", "raw_sqlite_insert_entries_per_s")
    figures.ratio("import_vs_pymerkle", "import_entries_per_s", "pymerkle_bulk_append_entries_per_s")
    figures.ratio("append_vs_raw_durable", "append_per_s", "raw_durable_commits_per_s")
    figures.ratio("append_vs_pymerkle", "append_per_s", "pymerkle_append_per_s")
    figures.ratio("verify_vs_raw_hash_root", "verify_entries_per_s", "raw_hash_root_entries_per_s")
    for kind in ("inclusion", "consistency"):
        for what in ("proof", "verify"):
            for p in ("p50", "p99"):
                figures.ratio(f"{kind}_{what}_{p}_vs_pymerkle", f"{kind}_{what}_{p}_ms", f"pymerkle_{kind}_{what}_{p}_ms")
    figures.put(total_s=round(time.perf_counter() - started, 1))
    print(render_table(figures.values))
    return figures.values


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3g}{unit}" if value < 100 else f"{value:,.0f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return str(value)


def render_table(f: dict) -> str:
    """The figures as a Markdown table: operation, ours, baseline, ours / baseline, target."""
    def pair(a: str, b: str, unit: str = " ms") -> str:
        return f"{_fmt(f.get(a))} / {_fmt(f.get(b))}{unit}"

    rows = [
        ("bulk import", f"{_fmt(f.get('import_entries_per_s'))} entries/s",
         f"raw SQLite {_fmt(f.get('raw_sqlite_insert_entries_per_s'))}/s; pymerkle {_fmt(f.get('pymerkle_bulk_append_entries_per_s'))}/s",
         f"{_fmt(f.get('import_vs_raw_sqlite'))}; {_fmt(f.get('import_vs_pymerkle'))}", ">= 50,000/s and >= 1/3 of raw SQLite"),
        ("durable single appends (p50 / p99)", f"{_fmt(f.get('append_per_s'))}/s ({pair('append_p50_ms', 'append_p99_ms')})",
         f"raw commits {_fmt(f.get('raw_durable_commits_per_s'))}/s ({pair('raw_durable_p50_ms', 'raw_durable_p99_ms')}); "
         f"pymerkle {_fmt(f.get('pymerkle_append_per_s'))}/s",
         f"{_fmt(f.get('append_vs_raw_durable'))}; {_fmt(f.get('append_vs_pymerkle'))}", ">= 1,000/s and >= 1/2 of raw"),
        ("full verify", f"{_fmt(f.get('verify_entries_per_s'))} entries/s ({_fmt(f.get('verify_s'))} s)",
         f"raw hashlib + root {_fmt(f.get('raw_hash_root_entries_per_s'))}/s",
         _fmt(f.get('verify_vs_raw_hash_root')), "1,000,000 entries in <= 10 s"),
    ]
    for kind in ("inclusion", "consistency"):
        rows.append((f"{kind} proof, made (p50 / p99)", pair(f"{kind}_proof_p50_ms", f"{kind}_proof_p99_ms"),
                     "pymerkle " + pair(f"pymerkle_{kind}_proof_p50_ms", f"pymerkle_{kind}_proof_p99_ms"),
                     f"{_fmt(f.get(f'{kind}_proof_p50_vs_pymerkle'))} / {_fmt(f.get(f'{kind}_proof_p99_vs_pymerkle'))}",
                     "p99 <= 20 ms, faster than pymerkle"))
        rows.append((f"{kind} proof, checked (p50 / p99)", pair(f"{kind}_verify_p50_ms", f"{kind}_verify_p99_ms"),
                     "pymerkle " + pair(f"pymerkle_{kind}_verify_p50_ms", f"pymerkle_{kind}_verify_p99_ms"),
                     f"{_fmt(f.get(f'{kind}_verify_p50_vs_pymerkle'))} / {_fmt(f.get(f'{kind}_verify_p99_vs_pymerkle'))}", ""))
    rows += [
        ("subject lookup (p50 / p99)", pair("subject_lookup_p50_ms", "subject_lookup_p99_ms"), "", "", "<= 50 ms"),
        ("ledger browser page of 200 (p50 / p99)", pair("browser_page_p50_ms", "browser_page_p99_ms"), "", "", "<= 50 ms"),
        ("filtered query: one recipient, one year (p50 / p99)", pair("filtered_query_p50_ms", "filtered_query_p99_ms"), "", "", "<= 500 ms"),
        ("annual review (HTML)", f"{_fmt(f.get('annual_review_html_s'))} s" if f.get("annual_review_html_s") is not None
         else f.get("annual_review_html", "n/a"), "", "", "<= 20 s"),
        ("database size", f"{_fmt(f.get('bytes_per_entry'))} bytes/entry", "", "", "<= 1,500 bytes/entry"),
        ("peak memory", f"{_fmt(f.get('peak_memory_mb'))} MB", "", "", "<= 500 MB"),
    ]
    lines = [f"{f.get('size', 0):,} entries ({f.get('entries', 0):,} imported disclosures); total {f.get('total_s')} s", "",
             "| operation | ours | baseline | ours / baseline | target |", "| --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
