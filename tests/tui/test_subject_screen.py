"""Pilot tests of the data subject screen on the sample ledger (conftest.py: `sample_ledger`, a
fresh copy for each test, fixed clock): the lookup shows every disclosure about a person and the
recipients to notify; the erasure goes through its confirmation, and cancelling erases nothing."""

from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable, Select, Static

from ledger.service import ERASED, ERASURE_REASONS
from tui.screens.contractors import plain_text
from tui.screens.subject import DISCLOSURE_COLUMNS, EraseSubjectScreen, SubjectScreen

from tui_support import read_service, start_app, wait_until

SIZE = (110, 36)


def identified_subject(service) -> str:
    """A person named in recent disclosures of the sample ledger: of the subjects of the latest
    identified (not bulk, not voided) disclosures, the one named most often."""
    candidates: dict[str, int] = {}
    for summary in service.disclosures(limit=60):
        if summary.bulk or summary.status == "voided":
            continue
        for subject in service.disclosure(summary.seq).subjects:
            if subject != ERASED and subject not in candidates:
                candidates[subject] = len(service.subject_disclosures(subject))
    assert candidates, "the sample ledger has identified disclosures"
    return max(candidates, key=lambda s: (candidates[s], s))


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def subject_screen(pilot) -> SubjectScreen:
    await pilot.press("s")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SubjectScreen)
    return screen


async def look_up(pilot, identifier: str) -> SubjectScreen:
    """Type the identifier into the lookup field and press enter."""
    screen = pilot.app.screen
    field = screen.query_one("#subject-identifier")
    field.value = ""
    field.focus()
    await pilot.press(*identifier, "enter")
    await settle(pilot)
    return screen


def status_text(screen) -> str:
    return screen.query_one("#subject-status", Static).content.plain


def rows(screen, table_id: str) -> list[list]:
    table = screen.query_one(table_id, DataTable)
    return [table.get_row_at(i) for i in range(table.row_count)]


@pytest.fixture
def subject(sample_ledger) -> dict:
    with read_service(sample_ledger) as service:
        identifier = identified_subject(service)
        return {
            "identifier": identifier,
            "disclosures": service.subject_disclosures(identifier),
            "recipients": service.recipients_to_notify(identifier),
            "entries": service.counts()["entries"],
        }


async def test_lookup_shows_every_disclosure_and_the_recipients_to_notify(sample_ledger, subject):
    expected = subject["disclosures"]
    assert len(expected) >= 2 and subject["recipients"]
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        screen = await subject_screen(pilot)
        assert screen.query_one("#subject-erase", Button).disabled
        await look_up(pilot, subject["identifier"])
        shown = rows(screen, "#subject-disclosures")
        assert [int(row[0]) for row in shown] == [s.seq for s in expected]   # newest first
        for row, summary in zip(shown, expected):
            cells = dict(zip(DISCLOSURE_COLUMNS, row))
            assert summary.first_day in cells["Date"]
            assert cells["Recipient"].startswith(summary.recipient_name[:20])
            assert cells["Basis"] == summary.basis
            assert str(cells["Record"]) == ("statutory" if summary.statutory else "voluntary")
            assert str(cells["Status"]) == summary.status
            assert cells["Subject"] == subject["identifier"]
            assert cells["Items"].startswith(", ".join(summary.data_items)[:30])
        statutory = sum(1 for s in expected if s.statutory)
        assert f"{len(expected)} disclosure(s) name {subject['identifier']} ({statutory} statutory" \
            in status_text(screen)
        recipients = rows(screen, "#subject-recipients")
        assert len(recipients) == len(subject["recipients"])
        for row, r in zip(recipients, subject["recipients"]):
            assert row[0] == f"{r.party.name} ({r.party.party_id})"
            assert all(f"#{seq}" in row[3] for seq in r.disclosures[:3])
            assert str(row[4]) == ("statutory" if r.statutory else "voluntary")
            assert row[5] == r.last_day
        assert not screen.query_one("#subject-erase", Button).disabled

        await look_up(pilot, "nobody@example.invalid")
        assert "No disclosure in the ledger names nobody@example.invalid" in status_text(screen)
        assert rows(screen, "#subject-disclosures") == [] and rows(screen, "#subject-recipients") == []
        assert screen.query_one("#subject-erase", Button).disabled
        await pilot.press("ctrl+e")   # nothing found: nothing to erase, no confirmation
        await settle(pilot)
        assert app.screen is screen


async def test_erasure_through_the_confirmation_removes_the_subject(sample_ledger, subject):
    identifier = subject["identifier"]
    seqs = [s.seq for s in subject["disclosures"]]
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        screen = await subject_screen(pilot)
        await look_up(pilot, identifier)
        await pilot.press("ctrl+e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, EraseSubjectScreen)
        body = " ".join(plain_text(modal.query_one("#erase-body Static", Static).content).split())
        assert identifier in body and f"named in {len(seqs)} disclosure(s)" in body
        assert "Kept" in body and "every entry and its hash" in body and "the fact that each release happened" in body
        assert "Removed for good" in body and "the identifier" in body and "free text about only this person" in body
        reason = modal.query_one("#erase-reason", Select)
        assert reason.value == "data_subject_request"
        reason.focus()
        await pilot.press("enter", "down", "enter")   # the next reason in the list
        await settle(pilot)
        assert reason.value == list(ERASURE_REASONS)[1]
        await pilot.click("#erase-confirm")
        await settle(pilot)

        assert app.screen is screen
        assert screen.erased is not None and screen.erased.result.disclosures
        status = status_text(screen)
        assert f"recorded erasure entry {screen.erased.result.seq}" in status
        assert "A new lookup finds 0 disclosure(s)" in status
        after = rows(screen, "#subject-disclosures")
        assert sorted(int(row[0]) for row in after) == sorted(screen.erased.result.disclosures)
        assert set(seqs) <= {int(row[0]) for row in after}
        assert all(str(dict(zip(DISCLOSURE_COLUMNS, row))["Subject"]).startswith(ERASED) for row in after)
        assert identifier not in status and screen.query_one("#subject-identifier").value == ""
        # The recipients stay listed: they must be told of the erasure.
        assert len(rows(screen, "#subject-recipients")) == len(subject["recipients"])

        await look_up(pilot, identifier)
        assert f"No disclosure in the ledger names {identifier}" in status_text(screen)
        assert rows(screen, "#subject-disclosures") == []
    with read_service(sample_ledger) as service:
        assert service.subject_disclosures(identifier) == []
        assert service.counts()["entries"] == subject["entries"] + 1
        last = service.entry(subject["entries"] + 1)
        assert last.kind == "subject.erased" and last.body["reason"] == list(ERASURE_REASONS)[1]
        for seq in seqs:
            assert ERASED in service.disclosure(seq).subjects
        assert service.verify().ok


async def test_cancelling_the_erasure_erases_nothing(sample_ledger, subject):
    identifier = subject["identifier"]
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        screen = await subject_screen(pilot)
        await look_up(pilot, identifier)
        screen.query_one("#subject-erase", Button).press()   # the button, then escape
        await settle(pilot)
        assert isinstance(app.screen, EraseSubjectScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.erased is None
        assert len(rows(screen, "#subject-disclosures")) == len(subject["disclosures"])

        await pilot.press("ctrl+e")   # and the Cancel button
        await settle(pilot)
        assert isinstance(app.screen, EraseSubjectScreen)
        await pilot.click("#erase-cancel")
        await settle(pilot)
        assert app.screen is screen
        await wait_until(pilot, lambda: screen.erased is None)
    with read_service(sample_ledger) as service:
        assert service.counts()["entries"] == subject["entries"]
        assert [s.seq for s in service.subject_disclosures(identifier)] == [s.seq for s in subject["disclosures"]]
