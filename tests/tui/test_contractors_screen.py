"""Pilot tests of the contractors screen and the assessment wizard on the sample ledger
(conftest.py: `sample_ledger`, a fresh copy of the deterministic sample for each test; fixed
clock). What the screen shows and what it recorded are checked against the service."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, Input, Select, Static, TextArea

from ledger.domain import DisclosureFilter
from ledger.errors import ValidationError
from ledger.rules.register import CERTIFICATIONS, STATUSES
from ledger.service import LedgerService
from tui.screens.assessment import AssessmentWizard, ConfirmScreen
from tui.screens.contractors import STATUS_BADGES, TABLE_COLUMNS, ContractorsScreen, plain_text

from tui_support import FIXED_NOW, OPERATOR, read_service, screen_text, start_app, wait_until

TODAY = FIXED_NOW.date()   # 12:00 in Tokyo: the same calendar day
SIZE = (110, 40)


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def contractors(pilot) -> ContractorsScreen:
    """From the dashboard to the contractors screen (key c), its table and detail read."""
    await pilot.press("c")
    screen = pilot.app.screen
    assert isinstance(screen, ContractorsScreen)
    await wait_until(pilot, lambda: screen.register_data is not None and screen.detail is not None,
                     message="the register")
    await settle(pilot)
    return screen


def detail_text(app) -> str:
    return plain_text(app.screen.query_one("#contractor-detail", Static).content)


async def highlight(pilot, party_id: str) -> None:
    """Move the table's cursor with the arrow keys to the contractor's row."""
    table = pilot.app.screen.query_one("#contractors-table", DataTable)
    table.focus()
    target = table.get_row_index(party_id)
    while table.cursor_row != target:
        await pilot.press("down" if table.cursor_row < target else "up")
    await settle(pilot)
    assert f"({party_id})" in detail_text(pilot.app)


async def open_wizard(pilot, party_id: str) -> AssessmentWizard:
    await highlight(pilot, party_id)
    await pilot.press("a")
    await settle(pilot)
    wizard = pilot.app.screen
    assert isinstance(wizard, AssessmentWizard) and wizard.party.party_id == party_id
    return wizard


async def walk_checklist(pilot, answers: dict[str, str]) -> AssessmentWizard:
    """Answer every item, page by page, with the keys 1-4 (met unless `answers` says
    otherwise), moving on with ctrl+n; stop on the summary page."""
    keys = {"met": "1", "partly_met": "2", "not_met": "3", "not_applicable": "4"}
    wizard = pilot.app.screen
    assert isinstance(wizard, AssessmentWizard)
    for area in wizard.areas:
        assert f"{area.name}." in wizard.query_one("#wizard-title", Static).content.plain
        items = wizard.page_items()
        assert [w.item.id for w in items] == [i.id for i in wizard.ref.checklist.values() if i.area == area.code]
        for widget in items:
            assert pilot.app.focused is widget.query_one(f"#answer-{widget.item.id}")
            await pilot.press(keys[answers.get(widget.item.id, "met")])
        await pilot.press("ctrl+n")
    await settle(pilot)
    assert wizard.on_summary
    return wizard


async def answer_all(pilot, answers: dict[str, str]) -> AssessmentWizard:
    """Set every answer at once (met unless `answers` says otherwise) and go to the summary
    page with ctrl+r (which checks before it asks; the walk by keys has its own test)."""
    wizard = pilot.app.screen
    assert isinstance(wizard, AssessmentWizard)
    wizard.answers.update({item_id: answers.get(item_id, "met") for item_id in wizard.ref.checklist})
    await wizard.go_to_summary()
    await settle(pilot)
    return wizard


async def confirm_record(pilot) -> None:
    await pilot.press("ctrl+r")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmScreen)
    body = pilot.app.screen.query_one("#confirm-body Static", Static).content.plain
    assert "cannot be edited afterwards" in body
    await pilot.click("#confirm-yes")
    await settle(pilot)


async def test_table_shows_each_contractor_with_the_status_the_service_gives(sample_ledger):
    with read_service(sample_ledger) as service:
        vendors = service.vendors()
    assert {v.status for v in vendors} == set(STATUSES), "the sample ledger has every state"
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        await contractors(pilot)
        assert isinstance(app.screen, ContractorsScreen)
        table = app.screen.query_one("#contractors-table", DataTable)
        assert table.row_count == len(vendors)
        for vendor in vendors:
            row = table.get_row(vendor.party.party_id)
            assert row[0].startswith(vendor.party.name[:20])
            assert row[-1] == vendor.party.party_id
            badge = row[1]
            assert badge.plain.strip() == STATUS_BADGES[vendor.status][0]
            assert badge.style == STATUS_BADGES[vendor.status][1]   # coloured per status
            latest = vendor.latest_assessment
            cells = dict(zip(TABLE_COLUMNS, row))
            assert str(cells["Valid until"]) == (latest.valid_until if latest else "-")
            assert cells["Assessed"] == (latest.assessed_on if latest else "-")
            assert str(cells["Outcome"]) == (latest.outcome if latest else "-")
            contract = (vendor.register.contract or {}) if vendor.register else {}
            assert str(cells["Contract ends"]) == (contract.get("ends_on") or "open-ended")


async def test_detail_shows_contract_certifications_assessments_and_disclosures(sample_ledger):
    with read_service(sample_ledger) as service:
        vendors = service.vendors()
        chosen = next(v for v in vendors if v.register and v.register.certifications
                      and v.register.contract and len(service.assessments(v.party.party_id)) >= 2)
        party_id = chosen.party.party_id
        history = service.assessments(party_id)
        received = service.disclosures(DisclosureFilter(recipient=party_id), limit=None)
        sub = next(v for v in vendors if v.party.kind == "subcontractor")
        boss = service.party(sub.register.works_for)
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        await contractors(pilot)
        await highlight(pilot, party_id)
        text = detail_text(app)
        assert str(chosen.register.contract["reference"]) in text
        assert str(chosen.register.contract["signed_on"]) in text
        assert "[x] the agreed security measures" in text or "[ ] the agreed security measures" in text
        for cert in chosen.register.certifications:
            assert CERTIFICATIONS[cert["scheme"]] in text
            assert str(cert["expires_on"]) in text
        assert f"Assessments ({len(history)}, newest first)" in text
        for a in history:
            assert a.assessed_on in text and f"score {a.score}%" in text
            assert f"next review {a.next_review}" in text
        assert f"Disclosures received: {len(received):,}" in text
        if received:
            assert f"#{received[0].seq}" in text

        await highlight(pilot, sub.party.party_id)
        text = detail_text(app)
        assert "works for" in text and boss.name in text
        assert ("approved" if sub.register.engagement_approved else "NOT approved") in text


async def test_wizard_shows_rejected_before_recording_then_records_it(sample_ledger):
    with read_service(sample_ledger) as service:
        ref = service.ref
        party_id = next(v.party.party_id for v in service.vendors() if v.status == "not_assessed")
        before = len(service.assessments(party_id))
        entries = service.counts()["entries"]
    critical = next(i for i in ref.checklist.values() if i.critical)
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        await contractors(pilot)
        await open_wizard(pilot, party_id)
        wizard = await walk_checklist(pilot, {critical.id: "not_met"})
        panel = plain_text(wizard.query_one("#outcome-panel", Static).content)
        assert "Derived outcome: REJECTED" in panel
        assert f"{critical.id} not met (critical)" in panel
        assert "If any critical item is not met, the contractor is rejected" in str(
            wizard.query_one("#outcome-rule", Static).content)
        assert "Will be recorded as: REJECTED" in wizard.query_one("#recorded-as", Static).content.plain
        assert not wizard.query_one("#conditions-box").display   # no conditions for a rejection
        with read_service(sample_ledger) as service:   # shown, not yet recorded
            assert service.counts()["entries"] == entries

        await confirm_record(pilot)
        assert isinstance(app.screen, ContractorsScreen)
        row = app.screen.query_one("#contractors-table", DataTable).get_row(party_id)
        assert row[1].plain.strip() == "rejected"
    with read_service(sample_ledger) as service:
        history = service.assessments(party_id)
        assert len(history) == before + 1
        latest = history[-1]
        assert (latest.outcome, latest.derived_outcome, latest.assessor) == ("rejected", "rejected", OPERATOR)
        assert latest.assessed_on == TODAY.isoformat()
        assert {a["item"]: a["answer"] for a in latest.answers}[critical.id] == "not_met"
        assert len(latest.answers) == len(ref.checklist)
        assert service.verify().ok


async def test_override_needs_a_written_reason_and_conditions_are_prefilled(sample_ledger):
    with read_service(sample_ledger) as service:
        ref = service.ref
        party_id = next(v.party.party_id for v in service.vendors() if v.status == "expired")
        before = len(service.assessments(party_id))
    minor = next(i for i in ref.checklist.values() if not i.critical)
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        await contractors(pilot)
        await open_wizard(pilot, party_id)
        wizard = await answer_all(pilot, {minor.id: "partly_met"})
        assert "Derived outcome: CONDITIONAL" in plain_text(wizard.query_one("#outcome-panel", Static).content)
        # A conditional outcome: conditions prefilled with the derived reason, default deadline.
        assert wizard.query_one("#conditions-box").display
        assert wizard.query_one("#conditions", TextArea).text.startswith(f"{minor.id} partly met")
        deadline = TODAY + timedelta(days=ref.assessment.condition_deadline_days)
        assert wizard.query_one("#condition-deadline", Input).value == deadline.isoformat()

        # Override to approved with the keyboard, no reason: refused, nothing asked or recorded.
        wizard.query_one("#override-outcome", Select).focus()
        await pilot.press("enter", "down", "enter")
        await settle(pilot)
        assert wizard.query_one("#override-outcome", Select).value == "approved"
        assert not wizard.query_one("#conditions-box").display
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is wizard, "no confirmation for an override without a reason"
        problems = wizard.query_one("#problems", Static).content.plain
        assert "override_reason: an assessor may override the derived outcome only with a written reason" \
            in problems
        with read_service(sample_ledger) as service:
            assert len(service.assessments(party_id)) == before

        reason = "Policy seen on site 2026-06-12"
        wizard.query_one("#override-reason", Input).focus()
        await pilot.press(*reason)
        await settle(pilot)
        assert "Ready to record" in wizard.query_one("#problems", Static).content.plain
        await confirm_record(pilot)
        assert isinstance(app.screen, ContractorsScreen)
        assert "override: conditional -> approved" in detail_text(app)
    with read_service(sample_ledger) as service:
        history = service.assessments(party_id)
        assert len(history) == before + 1
        latest = history[-1]
        assert (latest.derived_outcome, latest.outcome, latest.override_reason) == ("conditional", "approved", reason)
        assert latest.conditions == () and latest.condition_deadline is None
        assert service.verify().ok


async def test_conditional_outcome_records_the_prefilled_conditions(sample_ledger):
    with read_service(sample_ledger) as service:
        ref = service.ref
        party_id = next(v.party.party_id for v in service.vendors() if v.status == "approved")
        before = len(service.assessments(party_id))
    minor = [i for i in ref.checklist.values() if not i.critical][:2]
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        await contractors(pilot)
        await open_wizard(pilot, party_id)
        wizard = await answer_all(pilot, {minor[0].id: "partly_met", minor[1].id: "not_met"})
        deadline = (TODAY + timedelta(days=30)).isoformat()
        field = wizard.query_one("#condition-deadline", Input)
        field.value = ""
        field.focus()
        await pilot.press(*deadline)
        await settle(pilot)
        assert f"2 condition(s) due by {deadline}" in wizard.query_one("#recorded-as", Static).content.plain
        await confirm_record(pilot)
    with read_service(sample_ledger) as service:
        history = service.assessments(party_id)
        assert len(history) == before + 1
        latest = history[-1]
        assert latest.outcome == "conditional" and latest.condition_deadline == deadline
        assert [c.split(" ")[0] for c in latest.conditions] == [minor[0].id, minor[1].id]
        assert service.verify().ok


async def test_a_refusal_by_the_service_is_shown_and_nothing_is_recorded(sample_ledger, monkeypatch):
    with read_service(sample_ledger) as service:
        party_id = next(v.party.party_id for v in service.vendors() if v.status == "rejected")
        entries = service.counts()["entries"]

    def refuse(self, party_ref, data):
        raise ValidationError("assessed_on", "refused by the ledger for this test")

    monkeypatch.setattr(LedgerService, "record_assessment", refuse)
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        await contractors(pilot)
        await open_wizard(pilot, party_id)
        wizard = await answer_all(pilot, {})
        assert "Derived outcome: APPROVED" in plain_text(wizard.query_one("#outcome-panel", Static).content)
        await confirm_record(pilot)
        assert app.screen is wizard, "the wizard stays open to fix the input"
        problems = wizard.query_one("#problems", Static).content.plain
        assert "nothing was written" in problems
        assert "assessed_on: refused by the ledger for this test" in problems
    with read_service(sample_ledger) as service:
        assert service.counts()["entries"] == entries


async def test_the_command_palette_opens_the_wizard_and_cancelling_records_nothing(sample_ledger):
    with read_service(sample_ledger) as service:
        party_id = service.vendors()[0].party.party_id
        entries = service.counts()["entries"]
    app = start_app(sample_ledger)
    async with app.run_test(size=SIZE) as pilot:
        await contractors(pilot)
        await highlight(pilot, party_id)
        await pilot.press("ctrl+p", *"assess the highlighted")   # the command palette reaches it too
        await wait_until(pilot, lambda: "Contractors: assess" in screen_text(app), message="the command")
        await pilot.press("enter")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, AssessmentWizard) and wizard.party.party_id == party_id
        await pilot.press("1", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm-yes")     # discard
        await settle(pilot)
        assert isinstance(app.screen, ContractorsScreen) and not wizard.is_attached
    with read_service(sample_ledger) as service:
        assert service.counts()["entries"] == entries


async def test_an_empty_register_says_what_to_do(empty_ledger):
    app = start_app(empty_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        screen = app.screen
        await wait_until(pilot, lambda: screen.register_data is not None, message="the register")
        await settle(pilot)
        assert screen.query_one("#contractors-table", DataTable).row_count == 0
        assert "No contractors or subcontractors in the register yet" in detail_text(app)
        await pilot.press("a")   # nothing to assess: a warning, no wizard
        await settle(pilot)
        assert app.screen is screen
