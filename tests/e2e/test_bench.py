"""`disclosure-ledger bench` at a small size: it runs, and its JSON holds every figure of the
benchmark with its baseline and ratio. Timings are the machine's business, not asserted."""

from __future__ import annotations

import json

from ledger.cli import main

# The figures the benchmark promises: ours, the baselines they are compared with, and the ratios.
FIGURES = (
    "import_entries_per_s", "raw_sqlite_insert_entries_per_s", "import_vs_raw_sqlite",
    "pymerkle_bulk_append_entries_per_s", "import_vs_pymerkle",
    "append_per_s", "append_p50_ms", "append_p99_ms",
    "raw_durable_commits_per_s", "raw_durable_p50_ms", "raw_durable_p99_ms", "append_vs_raw_durable",
    "pymerkle_append_per_s", "append_vs_pymerkle",
    "verify_entries_per_s", "verify_s", "raw_hash_root_entries_per_s", "verify_vs_raw_hash_root",
    *(f"{prefix}{kind}_{what}_{p}_ms" for prefix in ("", "pymerkle_") for kind in ("inclusion", "consistency")
      for what in ("proof", "verify") for p in ("p50", "p99")),
    *(f"{kind}_{what}_{p}_vs_pymerkle" for kind in ("inclusion", "consistency")
      for what in ("proof", "verify") for p in ("p50", "p99")),
    "subject_lookup_p50_ms", "subject_lookup_p99_ms", "browser_page_p50_ms", "browser_page_p99_ms",
    "filtered_query_p50_ms", "filtered_query_p99_ms",
    "bytes_per_entry", "peak_memory_mb",
)


def test_bench_runs_and_reports_every_figure_with_its_baseline(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--entries", "2000", "--out", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    missing = [name for name in FIGURES if not isinstance(figures.get(name), (int, float))]
    assert not missing, f"figures missing from the JSON: {missing}"
    assert figures["verify_ok"] is True
    assert figures["pymerkle_root_matches"] is True, "pymerkle's root of the same leaves is ours"
    assert figures["raw_root_matches"] is True, "the plain root of the same leaves is ours"
    assert isinstance(figures.get("annual_review_html_s"), (int, float))
    by_table = figures["bytes_per_entry_by_table"]
    if by_table is not None:  # SQLite's dbstat, where this SQLite has it
        assert by_table["entry"] > 500 and 0.9 < sum(by_table.values()) / figures["bytes_per_entry"] < 1.05, by_table
    captured = capsys.readouterr()
    assert "| bulk import |" in captured.out and "ours / baseline" in captured.out
    assert "[bench]" in captured.err  # progress goes to stderr


def test_a_bench_size_out_of_range_is_refused(capsys):
    for entries in ("0", "-5", "10000001", "many"):
        assert main(["bench", "--entries", entries]) == 2
        err = capsys.readouterr().err
        assert "--entries" in err and "Traceback" not in err and "[bench]" not in err


def test_an_out_file_that_cannot_be_written_is_refused_before_the_run(tmp_path, capsys):
    assert main(["bench", "--entries", "10", "--out", str(tmp_path / "missing" / "bench.json")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "does not exist" in err and "[bench]" not in err
    assert main(["bench", "--entries", "10", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
