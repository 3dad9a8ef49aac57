"""`disclosure-ledger bench`: build a ledger of realistic shape in a temporary folder and print
how fast the core works on it. Figures, not asserts: the machine decides what is fast."""

from __future__ import annotations

import json
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

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


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered) * 1000, ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000


def _bench_proofs(service: LedgerService, results: dict, key: str, count: int = 200, seed: int = 11) -> None:
    """Inclusion and consistency proof generation at the ledger's full size (random seqs and
    first sizes), each proof checked once outside the timing."""
    from .chain import merkle
    rng = random.Random(seed)
    size = service.store.size()
    root = bytes.fromhex(service.root_at(size))
    for name in ("inclusion", "consistency"):
        latencies = []
        for _ in range(count):
            point = rng.randrange(1, size + 1)
            t0 = time.perf_counter()
            proof = service.inclusion_proof(point) if name == "inclusion" else service.consistency_proof(point)
            latencies.append(time.perf_counter() - t0)
            if name == "inclusion":
                merkle.verify_inclusion(point - 1, size, bytes.fromhex(proof["leaf_hash"]),
                                        [bytes.fromhex(h) for h in proof["audit_path"]], root)
            else:
                merkle.verify_consistency(point, size, bytes.fromhex(proof["first_root"]), root,
                                          [bytes.fromhex(h) for h in proof["path"]])
        p50, p99 = _percentiles(latencies)
        results.update({f"{name}_proof{key}_p50_ms": round(p50, 3), f"{name}_proof{key}_p99_ms": round(p99, 3)})
        label = {"inclusion": "inclusion proof", "consistency": "consist. proof"}[name]
        _say(f"{label:<16} {size:>9,} entries, {count} random proofs at full size: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def run_bench(entries: int = 100_000, verify_sizes: list[int] | None = None, out: str | None = None,
              appends: int = 300, proofs_on: list[str] | None = None) -> int:
    results: dict[str, object] = {"entries": entries}
    with tempfile.TemporaryDirectory(prefix="disclosure-ledger-bench-") as folder:
        path = Path(folder) / "bench.db"
        service = LedgerService.open(path, create=True, operator="bench", clock=_clock)
        parties = _register_parties(service, 50)
        rows = synthetic_rows(parties, entries)
        started = time.perf_counter()
        service.import_disclosures(rows, source="bench")
        elapsed = time.perf_counter() - started
        results["import_entries_per_s"] = round(entries / elapsed)
        _say(f"bulk import      {entries:>9,} disclosures in {elapsed:6.2f} s  = {entries / elapsed:>9,.0f} entries/s")

        latencies = []
        for row in rows[:appends]:
            t0 = time.perf_counter()
            service.record_disclosure(row)
            latencies.append(time.perf_counter() - t0)
        total = sum(latencies)
        p50 = statistics.median(latencies) * 1000
        p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000
        results.update(append_per_s=round(appends / total), append_p50_ms=round(p50, 3), append_p99_ms=round(p99, 3))
        _say(f"durable appends  {appends:>9,} single commits          = {appends / total:>9,.0f} appends/s  (p50 {p50:.2f} ms, p99 {p99:.2f} ms)")

        size = service.counts()["entries"]
        started = time.perf_counter()
        report = service.verify()
        elapsed = time.perf_counter() - started
        results["verify_entries_per_s"] = round(size / elapsed)
        _say(f"verify           {size:>9,} entries in {elapsed:6.2f} s      = {size / elapsed:>9,.0f} entries/s  ({'intact' if report.ok else 'NOT intact'})")
        _bench_proofs(service, results, "")
        service.close()
        results["bytes_per_entry"] = round(path.stat().st_size / size)
        _say(f"file size        {path.stat().st_size / 1e6:9.1f} MB = {path.stat().st_size / size:,.0f} bytes/entry")

        for extra in verify_sizes or ():
            vpath = Path(folder) / f"verify-{extra}.db"
            vservice = LedgerService.open(vpath, create=True, operator="bench", clock=_clock)
            vparties = _register_parties(vservice, 50)
            done = 0
            while done < extra:
                chunk = min(100_000, extra - done)
                vservice.import_disclosures(synthetic_rows(vparties, chunk, seed=done + 1), source="bench")
                done += chunk
            size = vservice.counts()["entries"]
            started = time.perf_counter()
            report = vservice.verify()
            elapsed = time.perf_counter() - started
            results[f"verify_{extra}_entries_per_s"] = round(size / elapsed)
            _say(f"verify           {size:>9,} entries in {elapsed:6.2f} s      = {size / elapsed:>9,.0f} entries/s  ({'intact' if report.ok else 'NOT intact'})")
            _bench_proofs(vservice, results, f"_{extra}")
            vservice.close()
    for ledger in proofs_on or ():
        pservice = LedgerService.open(Path(ledger), operator="bench", clock=_clock)
        try:
            _bench_proofs(pservice, results, f"_{Path(ledger).name}")
        finally:
            pservice.close()
    results["peak_memory_mb"] = round(_peak_mb(), 1)
    _say(f"peak memory      {_peak_mb():9.1f} MB")
    if out:
        Path(out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def _say(line: str) -> None:
    print(line, flush=True)
    sys.stdout.flush()
