"""The record screen, driven with Pilot on a small seeded ledger at 80x24: a disclosure recorded
end to end through the form, live errors that name the field and append nothing, the
cross-border section, the evidence fields of a basis, and a release the contractor register
refuses, then forces with a written override reason."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ledger.service import LedgerService
from tui.app import make_app
from tui.screens.record import RecordScreen
from tui.widgets.record_review import ConfirmDisclosureScreen, GateRefusedScreen, OverrideReasonScreen

NOW = datetime(2026, 6, 15, 3, 0, tzinfo=timezone.utc)  # 12:00 in Tokyo
OPERATOR = "Test Operator"
SIZE = (80, 24)
DEBOUNCE = 0.05


@pytest.fixture(autouse=True)
def quick_live_check(monkeypatch):
    """The live check waits for a pause in typing; a short pause keeps these tests quick."""
    monkeypatch.setattr(RecordScreen, "debounce", DEBOUNCE)


def fixed_clock() -> datetime:
    return NOW


PARTIES = [
    {"party_id": "P001", "name": "Heian Textbook Publishers Inc.", "kind": "third_party", "country": "JP",
     "address": "8 Oike-dori, Nakagyo-ku, Kyoto", "representative": "Watanabe Aiko"},
    {"party_id": "P002", "name": "Cloudnine Hosting LLC", "kind": "contractor", "country": "US",
     "address": "500 Pine Street, Seattle, WA 98101", "representative": "Jordan Miller"},
    {"party_id": "P003", "name": "Rakuhoku Printing K.K.", "kind": "contractor", "country": "JP",
     "address": "3-5 Kitaoji, Kita-ku, Kyoto", "representative": "Yamada Kenji"},
]


def approve(service: LedgerService, party_id: str, *, abroad: bool) -> None:
    """A register record with a contract and an approved assessment (as tests/conftest.py does)."""
    record = {
        "service": "hosting on the company's behalf", "data_items": ["name", "email"],
        "contract": {"reference": f"CT-{party_id}", "signed_on": "2019-12-01",
                     "clauses": ["security_measures", "audit_rights", "subcontracting_approval",
                                 "incident_notification", "return_or_deletion"]},
        "works_for": None, "engagement_approved": False,
    }
    if abroad:
        record.update(equivalent_measures=True, measures_checked_on="2019-12-01")
    service.record_contractor(party_id, record)
    service.record_assessment(party_id, {
        "assessor": "Test Assessor", "assessed_on": "2020-01-01", "valid_until": "2035-12-31",
        "answers": [{"item": item, "answer": "met", "note": "checked on site"} for item in service.ref.checklist]})


@pytest.fixture
def ledger_path(tmp_path) -> Path:
    """A ledger with a domestic third party, an approved contractor in the United States and a
    domestic contractor that was never assessed."""
    path = tmp_path / "ledger.db"
    service = LedgerService.open(path, create=True, operator=OPERATOR, clock=fixed_clock)
    try:
        for party in PARTIES:
            service.register_party(party)
        approve(service, "P002", abroad=True)
    finally:
        service.close()
    return path


def entries(path: Path) -> int:
    with LedgerService.open(path, operator=OPERATOR, clock=fixed_clock) as service:
        return service.counts()["entries"]


async def wait_until(pilot, condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def settle(pilot) -> None:
    """Let the debounced live check run and every worker finish."""
    await pilot.pause(DEBOUNCE + 0.05)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_form(pilot) -> RecordScreen:
    await pilot.press("r")  # the app's own key for the record screen
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RecordScreen) and pilot.app.screen.ref is not None,
                     "the record screen to load")
    await settle(pilot)
    return pilot.app.screen


async def type_into(pilot, selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    await pilot.press(*text)


def shown(screen, selector: str) -> str:
    """The plain text a Static shows."""
    widget = screen.query_one(selector)
    content = widget.render()
    return getattr(content, "plain", None) or str(content)


async def pick_recipient(pilot, search: str) -> None:
    screen = pilot.app.screen
    search_box = screen.query_one("#recipient-search")
    search_box.value = ""
    await type_into(pilot, "#recipient-search", search)
    await pilot.press("enter")
    await settle(pilot)


async def fill_release(pilot, *, basis: str, evidence: dict[str, str], subjects: str) -> RecordScreen:
    """The fields every release needs, typed or chosen like a person would."""
    screen = pilot.app.screen
    screen.query_one("#basis").value = basis
    await settle(pilot)
    for index, (code, value) in enumerate(evidence.items()):
        if index == 0:
            await type_into(pilot, f"#evidence-{code}", value)  # typed, key by key
        else:
            screen.query_one(f"#evidence-{code}").value = value
    items = screen.query_one("#data_items")
    items.select("name")
    items.select("email")
    await type_into(pilot, "#subjects", subjects)
    screen.query_one("#purpose").value = "business_communication"
    await settle(pilot)
    return screen


async def test_record_a_disclosure_end_to_end(ledger_path):
    before = entries(ledger_path)
    app = make_app(ledger_path, create=False, operator=OPERATOR, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)

        async def tab_to(widget_id: str) -> None:
            await pilot.press("tab")
            assert app.focused is not None and app.focused.id == widget_id, app.focused

        # Keyboard only, field after field, as a person at the terminal would.
        assert app.focused.id == "recipient-search"
        await pilot.press(*"heian", "enter")  # search; Enter picks the highlighted match
        await settle(pilot)
        assert screen.query_one("RecipientPicker").chosen.party_id == "P001"
        assert "Heian Textbook Publishers Inc." in shown(screen, "#recipient-detail")
        await tab_to("basis")
        await pilot.press("enter", *"cons", "enter")  # open the list, type to search, pick
        await settle(pilot)
        assert screen.query_one("#basis").value == "consent"
        await tab_to("evidence-consent_reference")
        await pilot.press(*"C-17")
        await tab_to("evidence-consent_date")
        await pilot.press(*"2026-06-01")
        await tab_to("data_items")
        await pilot.press("space", "down", "down", "space")  # name, then e-mail address
        await tab_to("subjects-mode")
        await tab_to("subjects")
        await pilot.press(*"S-1;S-2")
        await tab_to("date")
        assert screen.query_one("#date").value == "2026-06-15"  # today in the company's time zone
        await tab_to("last_day")
        await tab_to("purpose")  # no cross-border section for a recipient in Japan
        await pilot.press("enter", *"bus", "enter")
        await tab_to("method")
        await pilot.press("enter", *"sf", "enter")
        await tab_to("notes")
        await pilot.press(*"by SFTP")
        await settle(pilot)
        assert screen.errors == []
        assert "Ready" in shown(screen, "#form-status")

        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDisclosureScreen), "the confirmation")
        review = app.screen.review.text()
        for expected in ("P001 Heian Textbook Publishers Inc.", "2026-06-15", "S-1; S-2",
                         "Name (name), E-mail address (email)", "Consent of the person (consent)",
                         "Consent reference: C-17", "Consent obtained on: 2026-06-01", "SFTP (sftp)",
                         "by SFTP", "statutory", "Kept until: 2029-06-15", "Test Operator"):
            assert expected in review, expected
        assert "cannot be edited afterwards" in shown(app.screen, "#append-only")
        assert entries(ledger_path) == before  # nothing appended before the confirmation

        await pilot.press("y")
        await wait_until(pilot, lambda: screen.last_seq is not None, "the entry to be appended")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#recipient-search").value == ""  # the form was cleared
        assert screen.query_one("#data_items").selected == []
        assert any(f"entry {screen.last_seq}" in n.message for n in app._notifications)
        seq = screen.last_seq

    assert entries(ledger_path) == before + 1
    with LedgerService.open(ledger_path, operator=OPERATOR, clock=fixed_clock) as service:
        assert service.verify().ok is True
        detail = service.disclosure(seq)
    assert detail.summary.recipient_id == "P001"
    assert detail.summary.first_day == "2026-06-15" and detail.summary.bulk is False
    assert detail.subjects == ("S-1", "S-2")
    assert detail.summary.data_items == ("name", "email")
    assert detail.summary.basis == "consent" and detail.summary.purpose == "business_communication"
    assert dict(detail.evidence) == {"consent_reference": "C-17", "consent_date": "2026-06-01"}
    assert detail.summary.method == "sftp" and detail.notes == "by SFTP"
    assert detail.summary.statutory is True and detail.summary.route is None


async def test_bad_input_shows_the_errors_and_appends_nothing(ledger_path):
    before = entries(ledger_path)
    app = make_app(ledger_path, create=False, operator=OPERATOR, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await pick_recipient(pilot, "P001")
        await fill_release(pilot, basis="consent", evidence={"consent_date": "2026-06-01"}, subjects="S-1")
        date = screen.query_one("#date")
        date.value = "2027-01-0"
        date.focus()
        await pilot.press("end", "1")
        await settle(pilot)
        # Live: the error shows under the field just typed, naming it.
        assert screen.query_one("#err-date").display
        assert "date: 2027-01-01 is in the future" in shown(screen, "#err-date")
        assert "to fix" in shown(screen, "#form-status")

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen  # no confirmation: the form is refused
        panel = shown(screen, "#errors-panel")
        assert "date: 2027-01-01 is in the future" in panel
        assert "evidence.consent_reference: is required for basis consent" in panel
        assert "APPI Art. 27(1) main clause" in panel  # the article is named
        assert "evidence.consent_reference" in shown(screen, "#err-evidence-consent_reference")
        assert any("date" in n.message for n in app._notifications)
    assert entries(ledger_path) == before


async def test_cross_border_section_only_for_a_recipient_abroad(ledger_path):
    app = make_app(ledger_path, create=False, operator=OPERATOR, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        section = screen.query_one("#cross-border")
        assert not section.display
        await pick_recipient(pilot, "heian")
        assert not section.display
        assert "route" not in screen.form_values()

        await pick_recipient(pilot, "cloud")
        assert screen.query_one("RecipientPicker").chosen.party_id == "P002"
        assert section.display
        assert "United States of America (US)" in shown(screen, "#abroad-info")
        assert "[approved]" in shown(screen, "#recipient-detail")
        screen.query_one("#route").value = "equivalent_measures"
        await settle(pilot)
        assert "PPC Rule 16" in shown(screen, "#route-info")
        screen.query_one("#route_evidence-measures_reference")
        label = [w for w in screen.query("#route-evidence-fields Label") if "Measures last checked on" in str(w.render())]
        assert label and "YYYY-MM-DD" in str(label[0].render())
        assert screen.form_values()["route"] == "equivalent_measures"

        await pick_recipient(pilot, "P001")
        assert not section.display
        assert "route" not in screen.form_values()


async def test_choosing_a_basis_shows_its_article_meaning_and_evidence_fields(ledger_path):
    app = make_app(ledger_path, create=False, operator=OPERATOR, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        assert not screen.query("#evidence-fields Input")
        screen.query_one("#basis").value = "life_body_property"
        await settle(pilot)
        info = shown(screen, "#basis-info")
        assert "APPI Art. 27(1)(ii)" in info and "GDPR" in info and "Art. 6(1)(d)" in info
        assert "protect someone's life, body or property" in info
        assert "Evidence required now: Danger to be averted, Why consent was hard to obtain" in info
        ids = [w.id for w in screen.query("#evidence-fields Input")]
        assert ids == ["evidence-danger", "evidence-consent_impracticable_reason"]
        await type_into(pilot, "#evidence-danger", "a life")

        screen.query_one("#basis").value = "consent"
        await settle(pilot)
        assert [w.id for w in screen.query("#evidence-fields Input")] == ["evidence-consent_reference",
                                                                         "evidence-consent_date"]
        labels = " | ".join(str(w.render()) for w in screen.query("#evidence-fields Label"))
        assert "Consent obtained on (date, YYYY-MM-DD)" in labels
        assert "Record: statutory" in shown(screen, "#basis-info")

        screen.query_one("#basis").value = "life_body_property"  # what was typed comes back
        await settle(pilot)
        assert screen.query_one("#evidence-danger").value == "a life"


async def test_a_gated_release_is_refused_then_forced_with_an_override_reason(ledger_path):
    before = entries(ledger_path)
    app = make_app(ledger_path, create=False, operator=OPERATOR, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await type_into(pilot, "#recipient-search", "raku")
        await pilot.pause()
        assert "[not assessed]" in str(screen.query_one("#recipient-options").get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(pilot)
        await fill_release(pilot, basis="outsourcing", evidence={"contract_reference": "CT-9"},
                           subjects="S-7")
        assert "refuses this release" in shown(screen, "#form-status")

        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDisclosureScreen), "the confirmation")
        assert "REFUSED" in app.screen.review.text()
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, GateRefusedScreen), "the refusal")
        explained = shown(app.screen, "#refusal-text")
        assert "no_assessment" in explained and "has no safeguard assessment" in explained
        assert "What to do" in explained and "APPI Art. 25" in explained
        assert entries(ledger_path) == before

        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, OverrideReasonScreen), "the reason dialog")
        await pilot.press("ctrl+s")  # an empty reason
        await pilot.pause()
        assert isinstance(app.screen, OverrideReasonScreen)
        assert "override_reason: is required" in shown(app.screen, "#override-error")
        assert entries(ledger_path) == before

        await pilot.press(*"exam day")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.last_seq is not None, "the forced entry")
        await settle(pilot)
        assert app.screen is screen
        seq = screen.last_seq

    assert entries(ledger_path) == before + 1
    with LedgerService.open(ledger_path, operator=OPERATOR, clock=fixed_clock) as service:
        assert service.verify().ok is True
        gating = service.entry(seq).body["gating"]
        assert service.disclosure(seq).summary.recipient_id == "P003"
    assert gating["override"]["failed"] == "no_assessment"
    assert gating["override"]["reason"] == "exam day"
