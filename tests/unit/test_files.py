"""Files written beside the ledger reach the disk whole: reports, backups, notes, evidence copies
and signing keys."""

from __future__ import annotations

import os
import stat

import pytest

from ledger import files
from ledger.keys import KeyFolder, KeyUnavailable
from ledger.reports import render


def _recording_fsync(monkeypatch) -> list[str]:
    """What reaches the disk, in order: "file" and "folder" syncs, and "replace" for a rename."""
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    def replace(source, target) -> None:
        synced.append("replace")
        real_replace(source, target)
    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    return synced


def test_a_side_file_reaches_the_disk_before_it_replaces_the_old_one(tmp_path, monkeypatch):
    synced = _recording_fsync(monkeypatch)
    final, partial = tmp_path / "report.csv", tmp_path / "report.csv.part"
    final.write_text("old")
    partial.write_text("new")
    files.durable_replace(partial, final)
    assert final.read_text() == "new" and not partial.exists()
    assert synced == ["file", "replace", "folder"]


def test_a_report_is_written_durably_and_owner_only(tmp_path, monkeypatch):
    synced = _recording_fsync(monkeypatch)
    path = render.write(tmp_path / "out" / "annual.html", ["<p>", "1", "</p>"])
    assert path.read_text() == "<p>1</p>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert synced == ["file", "replace", "folder"]
    assert list(path.parent.iterdir()) == [path]


def test_a_new_signing_key_file_and_its_name_reach_the_disk(tmp_path, monkeypatch):
    synced = _recording_fsync(monkeypatch)
    folder = KeyFolder(tmp_path / "keys")
    key = folder.create("ledger-id", "example.org/ledger", None)
    assert folder.exists("ledger-id", key.key_id.hex())
    assert synced == ["file", "folder"]


def test_a_key_whose_name_cannot_be_made_durable_is_refused_and_removed(tmp_path, monkeypatch):
    real = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(5, "Input/output error")
        real(fd)
    monkeypatch.setattr(files.os, "fsync", fsync)
    folder = KeyFolder(tmp_path / "keys")
    with pytest.raises(KeyUnavailable, match="the key file cannot be written"):
        folder.create("ledger-id", "example.org/ledger", None)
    assert list((tmp_path / "keys").iterdir()) == []
