"""Shared fixtures: a fresh ledger on a temporary file, a clock the test controls, and a
realistic set of registered parties (domestic and foreign, contractors, third parties,
a government body)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

from ledger.domain import Party
from ledger.service import LedgerService

DEFAULT_NOW = datetime(2026, 6, 15, 3, 0, tzinfo=timezone.utc)  # 12:00 in Tokyo


@pytest.fixture
def command_line(capsys):
    """Run `disclosure-ledger ARGS...` in this process: (exit code, stdout, stderr), never a traceback."""
    from ledger.cli import main

    def run(*argv) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run


@pytest.fixture(autouse=True)
def private_key_folder(tmp_path_factory, monkeypatch):
    """Signing keys go to a folder of the test's own (the environment reaches subprocesses too),
    never to the user's configuration folder."""
    folder = tmp_path_factory.mktemp("keys")
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(folder))
    monkeypatch.delenv("DISCLOSURE_LEDGER_KEY_PASSPHRASE", raising=False)
    return folder


class TestClock:
    """A clock for `LedgerService(clock=...)`: always an aware UTC datetime, moved by the test."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, now: datetime = DEFAULT_NOW):
        self._now = now
        self.set(now)

    def __call__(self) -> datetime:
        return self._now

    def set(self, when: datetime | str) -> datetime:
        """Move to `when`: an aware datetime, or an ISO 8601 string such as '2026-06-15T16:00:00Z'."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError("the test clock needs an aware datetime")
        self._now = when.astimezone(timezone.utc)
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a `timedelta(**delta)`."""
        return self.set(self._now + timedelta(**delta))


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def fresh_ledger(tmp_path, clock) -> Iterator[LedgerService]:
    service = LedgerService.open(tmp_path / "ledger.db", create=True, operator="Test Operator", clock=clock)
    try:
        yield service
    finally:
        service.close()


@dataclass(frozen=True)
class Parties:
    contractor: Party          # domestic mail-delivery contractor
    subcontractor: Party       # domestic printing subcontractor
    third_party: Party         # domestic third party (a publisher)
    affiliate: Party           # an affiliated cram school
    government: Party          # the prefectural police (no representative)
    us_contractor: Party       # cloud hosting in the United States
    de_third_party: Party      # a German university (designated country)
    joint_user: Party          # a joint user named in the notice of joint use
    successor: Party           # the business successor of a merger


PARTY_DATA = {
    "contractor": {
        "name": "Kyoto Mail Delivery Co., Ltd.", "kind": "contractor", "country": "JP",
        "address": "12 Karasuma-dori, Shimogyo-ku, Kyoto 600-8008", "representative": "Suzuki Ichiro",
        "contact": "privacy@kyoto-mail.example.jp",
    },
    "subcontractor": {
        "name": "Rakuhoku Printing K.K.", "kind": "subcontractor", "country": "JP",
        "address": "3-5 Kitaoji, Kita-ku, Kyoto 603-8143", "representative": "Yamada Kenji",
    },
    "third_party": {
        "name": "Heian Textbook Publishers Inc.", "kind": "third_party", "country": "JP",
        "address": "8 Oike-dori, Nakagyo-ku, Kyoto 604-8171", "representative": "Watanabe Aiko",
    },
    "affiliate": {
        "name": "Kamogawa Cram School Co., Ltd.", "kind": "affiliate", "country": "JP",
        "address": "21 Demachi, Kamigyo-ku, Kyoto 602-0822", "representative": "Ito Sachiko",
    },
    "government": {
        "name": "Kyoto Prefectural Police", "kind": "government_body", "country": "JP",
        "address": "85-3 Yabunouchi-cho, Kamigyo-ku, Kyoto 602-8550",
    },
    "us_contractor": {
        "name": "Cloudnine Hosting LLC", "kind": "contractor", "country": "US",
        "address": "500 Pine Street, Seattle, WA 98101", "representative": "Jordan Miller",
    },
    "de_third_party": {
        "name": "Universitaet Heidelberg Lernforschung", "kind": "third_party", "country": "DE",
        "address": "Grabengasse 1, 69117 Heidelberg", "representative": "Prof. Anna Schmidt",
    },
    "joint_user": {
        "name": "Kansai Education Consortium", "kind": "joint_user", "country": "JP",
        "address": "1-1 Umeda, Kita-ku, Osaka 530-0001", "representative": "Kato Hiroshi",
    },
    "successor": {
        "name": "Rakusei Learning Holdings K.K.", "kind": "successor", "country": "JP",
        "address": "40 Saiin, Ukyo-ku, Kyoto 615-0022", "representative": "Nakamura Yuki",
    },
}


def all_met_answers(service: LedgerService, **answers: str) -> list[dict]:
    """An answer for every checklist item: met, unless named otherwise (item id -> answer)."""
    return [{"item": item_id, "answer": answers.get(item_id.replace("-", "_"), "met"), "note": "checked on site"}
            for item_id in service.ref.checklist]


def approve(service: LedgerService, party: Party, *, works_for: str | None = None,
            assessed_on: str = "2020-01-01", valid_until: str = "2035-12-31", **register) -> None:
    """Put a contractor in the register with a contract and an approved assessment, so that
    releases to it pass the gate (APPI Art. 25)."""
    record = {
        "service": "processing on the company's behalf", "data_items": ["name", "email"],
        "contract": {"reference": f"CT-{party.party_id}", "signed_on": "2019-12-01",
                     "clauses": ["security_measures", "audit_rights", "subcontracting_approval",
                                 "incident_notification", "return_or_deletion"]},
        "works_for": works_for, "engagement_approved": party.kind == "subcontractor",
    }
    if party.country != service.ref.settings.home_country:
        record.update(equivalent_measures=True, measures_checked_on="2019-12-01")
    record.update(register)
    service.record_contractor(party.party_id, record)
    service.record_assessment(party.party_id, {
        "assessor": "Test Assessor", "assessed_on": assessed_on, "valid_until": valid_until,
        "answers": all_met_answers(service)})


@pytest.fixture
def parties(fresh_ledger) -> Parties:
    registered = Parties(**{key: fresh_ledger.register_party(data) for key, data in PARTY_DATA.items()})
    approve(fresh_ledger, registered.contractor)
    approve(fresh_ledger, registered.us_contractor)
    approve(fresh_ledger, registered.subcontractor, works_for=registered.contractor.party_id)
    return registered

