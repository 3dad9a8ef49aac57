"""The contractor assessment rules (ledger/rules/assessment.py) on the shipped checklist:
the outcome rule on every branch, the score, refused answers, overrides, validity dates,
assessment dates and the conditions of a conditional outcome."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from types import MappingProxyType

import pytest
from freezegun import freeze_time

from ledger.errors import ValidationError
from ledger.refdata import ChecklistItem, ReferenceData, load_reference_data
from ledger.rules.assessment import (
    ANSWERS,
    OUTCOME_RULE,
    OUTCOMES,
    Answer,
    EvidenceFile,
    Outcome,
    add_months,
    check_answers,
    check_conditions,
    check_dates,
    check_override,
    condition_deadline,
    derive_outcome,
    score,
    validity,
)

REPO_DATA = Path(__file__).resolve().parents[2] / "data"
REF = load_reference_data(REPO_DATA)

CRITICAL = [item.id for item in REF.checklist.values() if item.critical]
NON_CRITICAL = [item.id for item in REF.checklist.values() if not item.critical]
CRIT = CRITICAL[0]  # a critical item
CRIT2 = CRITICAL[-1]  # another critical item, later in the checklist
PLAIN = NON_CRITICAL[0]  # a non-critical item
PLAIN2 = NON_CRITICAL[-1]
SHA = "ab" * 32


def answers(default: str = "met", **given: str) -> list[Answer]:
    """An answer for every item of the shipped checklist: ``default``, except the items named
    (with ``-`` for ``_`` in the id: ``TS_01="not_met"``). A critical item not applicable gets
    a note."""
    chosen = {key.replace("_", "-"): value for key, value in given.items()}
    out = []
    for item_id, item in REF.checklist.items():
        answer = chosen.get(item_id, default)
        note = "Handled only on paper: no system." if answer == "not_applicable" else None
        out.append(Answer(item_id, answer, note))
    return out


def kw(item_id: str) -> str:
    return item_id.replace("-", "_")


def fields(errors: list[ValidationError]) -> list[str]:
    return [e.field for e in errors]


def test_the_shipped_checklist_has_both_kinds_of_item() -> None:
    assert len(CRITICAL) >= 2 and len(NON_CRITICAL) >= 2
    assert ANSWERS == ("met", "partly_met", "not_met", "not_applicable")
    assert OUTCOMES == ("approved", "conditional", "rejected")


# ----------------------------------------------------------- outcome rule --


def test_all_met_is_approved() -> None:
    given = answers()
    assert check_answers(given, REF) == []
    assert derive_outcome(given, REF) == Outcome("approved", ())
    assert score(given, REF) == 100


def test_a_critical_item_partly_met_is_conditional() -> None:
    outcome = derive_outcome(answers(**{kw(CRIT): "partly_met"}), REF)
    question = REF.checklist[CRIT].question
    assert outcome == Outcome("conditional", (f"{CRIT} partly met: {question}",))


def test_a_non_critical_item_partly_met_is_conditional() -> None:
    outcome = derive_outcome(answers(**{kw(PLAIN): "partly_met"}), REF)
    assert outcome.outcome == "conditional"
    assert outcome.reasons == (f"{PLAIN} partly met: {REF.checklist[PLAIN].question}",)


def test_a_non_critical_item_not_met_is_conditional() -> None:
    outcome = derive_outcome(answers(**{kw(PLAIN): "not_met"}), REF)
    assert outcome.outcome == "conditional"
    assert outcome.reasons == (f"{PLAIN} not met: {REF.checklist[PLAIN].question}",)


def test_conditional_reasons_name_each_item_in_checklist_order() -> None:
    given = answers(**{kw(PLAIN2): "not_met", kw(CRIT): "partly_met", kw(PLAIN): "partly_met"})
    outcome = derive_outcome(given, REF)
    assert outcome.outcome == "conditional"
    order = list(REF.checklist)
    expected = sorted([PLAIN2, CRIT, PLAIN], key=order.index)
    assert [r.split(" ")[0] for r in outcome.reasons] == expected


def test_a_critical_item_not_met_is_rejected_even_with_others_partly_met() -> None:
    given = answers(
        "partly_met", **{kw(CRIT): "not_met", kw(PLAIN): "not_met", kw(PLAIN2): "met"}
    )
    outcome = derive_outcome(given, REF)
    question = REF.checklist[CRIT].question
    assert outcome == Outcome("rejected", (f"{CRIT} not met (critical): {question}",))


def test_rejected_names_every_critical_item_not_met() -> None:
    outcome = derive_outcome(answers(**{kw(CRIT2): "not_met", kw(CRIT): "not_met"}), REF)
    assert outcome.outcome == "rejected"
    assert [r.split(" ")[0] for r in outcome.reasons] == [CRIT, CRIT2]
    for item_id, reason in zip([CRIT, CRIT2], outcome.reasons):
        assert REF.checklist[item_id].question in reason


def test_not_applicable_counts_neither_for_nor_against() -> None:
    given = answers(**{kw(CRIT): "not_applicable", kw(PLAIN): "not_applicable"})
    assert check_answers(given, REF) == []
    assert derive_outcome(given, REF) == Outcome("approved", ())
    assert score(given, REF) == 100


def test_everything_not_applicable_is_approved_with_score_100() -> None:
    given = answers("not_applicable")
    assert check_answers(given, REF) == []
    assert derive_outcome(given, REF).outcome == "approved"
    assert score(given, REF) == 100


def test_not_applicable_does_not_hide_a_critical_item_not_met() -> None:
    given = answers("not_applicable", **{kw(CRIT2): "not_met"})
    assert derive_outcome(given, REF).outcome == "rejected"
    assert score(given, REF) == 0


@pytest.mark.parametrize(
    ("missing", "expected"), [(CRIT, "rejected"), (PLAIN, "conditional")]
)
def test_an_unanswered_item_counts_as_not_met(missing: str, expected: str) -> None:
    given = [a for a in answers() if a.item_id != missing]
    outcome = derive_outcome(given, REF)
    assert outcome.outcome == expected
    assert outcome.reasons[0].startswith(f"{missing} not answered")


def test_the_stated_rule_says_what_the_code_does() -> None:
    for words in ("critical item is not met", "rejected", "partly met", "conditional",
                  "approved", "deadline", "written reason", "left unanswered counts as not met"):
        assert words in OUTCOME_RULE, words


# ------------------------------------------------------------------ score --

# A small checklist: weights 1, 2 and 5, so every sum can be checked by hand.
SMALL = dataclasses.replace(
    REF,
    checklist=MappingProxyType({
        "AA-01": ChecklistItem("AA-01", "basic_policy", "Question one?", 1, False, "APPI", "GDPR"),
        "AA-02": ChecklistItem("AA-02", "technical", "Question two?", 2, False, "APPI", "GDPR"),
        "AA-03": ChecklistItem("AA-03", "contract_terms", "Question three?", 5, True, "APPI",
                               "GDPR"),
    }),
)


@pytest.mark.parametrize(
    ("one", "two", "three", "expected"),
    [
        ("met", "met", "met", 100),  # 16 / 16
        ("not_met", "not_met", "not_met", 0),  # 0 / 16
        ("met", "partly_met", "not_met", 25),  # (2 + 2 + 0) / 16
        ("partly_met", "met", "partly_met", 62),  # (1 + 4 + 5) / 16 = 62.5, rounded down
        ("not_applicable", "met", "partly_met", 64),  # (4 + 5) / 14 = 64.28...
        ("partly_met", "met", "not_applicable", 83),  # (1 + 4) / 6 = 83.33...
        ("met", "met", "partly_met", 68),  # (2 + 4 + 5) / 16 = 68.75
        ("partly_met", "not_applicable", "not_applicable", 50),  # 1 / 2
        ("not_met", "not_applicable", "not_applicable", 0),  # 0 / 2
        ("not_applicable", "not_applicable", "not_applicable", 100),  # nothing scored
    ],
)
def test_score_arithmetic(one: str, two: str, three: str, expected: int) -> None:
    given = [Answer("AA-01", one), Answer("AA-02", two), Answer("AA-03", three, "why")]
    result = score(given, SMALL)
    assert result == expected
    assert type(result) is int


def test_score_on_the_shipped_checklist() -> None:
    total = sum(item.weight for item in REF.checklist.values())
    assert total == 117
    five = next(i.id for i in REF.checklist.values() if i.weight == 5)
    # (234 - 5) * 100 // 234 = 97 (97.86 rounded down)
    assert score(answers(**{kw(five): "partly_met"}), REF) == 97
    # (234 - 10) * 100 // 234 = 95 (95.73 rounded down)
    assert score(answers(**{kw(five): "not_met"}), REF) == 95
    assert score(answers("partly_met"), REF) == 50
    assert score(answers("not_met"), REF) == 0


def test_score_ignores_refused_answers() -> None:
    given = [Answer("AA-01", "met"), Answer("AA-01", "not_met"), Answer("ZZ-99", "not_met"),
             Answer("AA-02", "maybe"), Answer("AA-03", "partly_met")]
    assert score(given, SMALL) == (2 + 5) * 100 // 12  # the first AA-01 answer counts


# ---------------------------------------------------------- check_answers --


def test_a_complete_set_of_answers_passes() -> None:
    given = answers("partly_met", **{kw(CRIT): "not_met", kw(PLAIN): "not_applicable"})
    assert check_answers(given, REF) == []


def test_an_unknown_item_is_refused() -> None:
    errors = check_answers([*answers(), Answer("ZZ-99", "met")], REF)
    assert fields(errors) == ["answers.ZZ-99"]
    assert errors[0].rule == "is not in the checklist (data/checklist.toml)"


def test_an_invalid_answer_lists_the_valid_ones() -> None:
    given = answers(**{kw(PLAIN): "yes"})
    errors = check_answers(given, REF)
    assert fields(errors) == [f"answers.{PLAIN}"]
    assert "'yes' is not an answer" in errors[0].rule
    assert "met, partly_met, not_met, not_applicable" in errors[0].rule


def test_an_item_answered_twice_is_refused_once() -> None:
    given = [*answers(), Answer(PLAIN, "not_met"), Answer(PLAIN, "met")]
    errors = check_answers(given, REF)
    assert fields(errors) == [f"answers.{PLAIN}"]
    assert "answered twice" in errors[0].rule


def test_a_critical_item_without_an_answer_is_refused_with_its_article() -> None:
    given = [a for a in answers() if a.item_id != CRIT]
    errors = check_answers(given, REF)
    assert len(errors) == 1
    error = errors[0]
    assert (error.field, error.rule) == (f"answers.{CRIT}", "is critical and must be answered")
    assert error.article == REF.checklist[CRIT].appi
    assert str(error).startswith(f"answers.{CRIT}: is critical and must be answered (")


def test_a_non_critical_item_without_an_answer_is_refused_too() -> None:
    given = [a for a in answers() if a.item_id != PLAIN]
    errors = check_answers(given, REF)
    assert fields(errors) == [f"answers.{PLAIN}"]
    assert "must be answered" in errors[0].rule
    assert "not_applicable" in errors[0].rule


def test_no_answers_at_all_gives_one_error_per_item_in_checklist_order() -> None:
    errors = check_answers([], REF)
    assert fields(errors) == [f"answers.{item_id}" for item_id in REF.checklist]
    critical = [e for e in errors if e.rule == "is critical and must be answered"]
    assert len(critical) == len(CRITICAL)


@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_critical_item_not_applicable_needs_a_note(note: str | None) -> None:
    given = [a if a.item_id != CRIT else Answer(CRIT, "not_applicable", note)
             for a in answers()]
    errors = check_answers(given, REF)
    assert fields(errors) == [f"answers.{CRIT}.note"]
    assert "needs a note" in errors[0].rule
    assert errors[0].article == REF.checklist[CRIT].appi


def test_a_non_critical_item_not_applicable_needs_no_note() -> None:
    given = [a if a.item_id != PLAIN else Answer(PLAIN, "not_applicable") for a in answers()]
    assert check_answers(given, REF) == []


def test_evidence_files_are_checked() -> None:
    files = (
        EvidenceFile("contract-2026.pdf", SHA),
        EvidenceFile("audit.pdf", "ABC"),
        EvidenceFile("../secret.txt", SHA),
        EvidenceFile("contract-2026.pdf", SHA),
        EvidenceFile(" ", SHA),
    )
    given = [a if a.item_id != PLAIN else Answer(PLAIN, "met", "See the files.", files)
             for a in answers()]
    errors = check_answers(given, REF)
    base = f"answers.{PLAIN}.evidence_files"
    assert fields(errors) == [f"{base}[2]", f"{base}[3]", f"{base}[4]", f"{base}[5]"]
    assert "SHA-256" in errors[0].rule
    assert "not a path" in errors[1].rule
    assert "listed twice" in errors[2].rule
    assert "name" in errors[3].rule


def test_good_evidence_files_pass() -> None:
    files = (EvidenceFile("contract.pdf", SHA), EvidenceFile("iso27001.pdf", "0" * 64))
    given = [a if a.item_id != CRIT else Answer(CRIT, "met", "Clause 12.", files)
             for a in answers()]
    assert check_answers(given, REF) == []


def test_every_problem_is_reported_at_once() -> None:
    given = [a for a in answers() if a.item_id not in (CRIT, PLAIN)]
    given += [Answer("XX-00", "met"), Answer(CRIT2, "not_met")]  # CRIT2 answered twice
    errors = check_answers(given, REF)
    order = list(REF.checklist)
    missing = [f"answers.{i}" for i in sorted([CRIT, PLAIN], key=order.index)]
    assert fields(errors) == ["answers.XX-00", f"answers.{CRIT2}", *missing]


# --------------------------------------------------------------- override --


CONDITIONAL = Outcome("conditional", ("X partly met: ?",))


@pytest.mark.parametrize(
    ("outcome", "reason", "expected"),
    [
        (None, None, []),
        ("", "  ", []),
        ("approved", "The missing clause was signed on 2026-06-20; see the addendum.", []),
        ("rejected", "The contractor refused the audit clause.", []),
        ("approved", None, ["override_reason"]),
        ("approved", "   ", ["override_reason"]),
        (None, "Looks fine to me.", ["override_outcome"]),
        ("conditional", "Same as derived.", ["override_outcome"]),
        ("accepted", "Typo in outcome.", ["override_outcome"]),
        ("accepted", None, ["override_outcome", "override_reason"]),
    ],
)
def test_override_rules(outcome: str | None, reason: str | None, expected: list[str]) -> None:
    assert fields(check_override(CONDITIONAL, outcome, reason)) == expected


def test_override_without_reason_says_why() -> None:
    (error,) = check_override(Outcome("rejected", ("r",)), "approved", None)
    assert error.rule == "an assessor may override the derived outcome only with a written reason"


def test_override_to_an_unknown_outcome_lists_the_valid_ones() -> None:
    errors = check_override(CONDITIONAL, "ok", "reason")
    assert "approved, conditional, rejected" in errors[0].rule


def test_override_to_the_derived_outcome_is_refused() -> None:
    errors = check_override(Outcome("approved", ()), "approved", "Confirming.")
    assert fields(errors) == ["override_outcome"]
    assert "derived outcome (approved)" in errors[0].rule


# ------------------------------------------------------------------ dates --


@pytest.mark.parametrize(
    ("assessed_on", "months", "valid_until"),
    [
        (date(2026, 6, 15), 12, date(2027, 6, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),  # clamped to the end of February
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # from 29 February to a common year
        (date(2024, 2, 29), 48, date(2028, 2, 29)),  # to the next 29 February
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # across the year end
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 1, 1), 120, date(2036, 1, 1)),
    ],
)
def test_validity_adds_calendar_months(assessed_on: date, months: int, valid_until: date) -> None:
    assert validity(assessed_on, months) == (valid_until, valid_until)


def test_add_months_goes_back_too() -> None:
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)


def test_next_review_comes_the_lead_time_before_the_end() -> None:
    assert validity(date(2026, 6, 15), 12, 30) == (date(2027, 6, 15), date(2027, 5, 16))
    assert validity(date(2028, 1, 31), 1, 30) == (date(2028, 2, 29), date(2028, 1, 31))
    # a lead time longer than the validity: the review is due on the day assessed
    assert validity(date(2026, 6, 15), 1, 60) == (date(2026, 7, 15), date(2026, 6, 15))


@pytest.mark.parametrize(("months", "lead"), [(0, 0), (-1, 0), (12, -1)])
def test_validity_refuses_nonsense(months: int, lead: int) -> None:
    with pytest.raises(ValueError):
        validity(date(2026, 6, 15), months, lead)


@freeze_time("2026-06-15 12:00:00")
def test_an_assessment_made_today_with_the_shipped_settings() -> None:
    today = date.today()
    valid_until, next_review = validity(
        today, REF.settings.assessment_validity_months, REF.assessment.expiring_within_days
    )
    assert (valid_until, next_review) == (date(2027, 6, 15), date(2027, 5, 16))
    assert check_dates(today, valid_until, date.today()) == []
    assert condition_deadline(today, REF) == date(2026, 9, 13)  # 90 days


def test_the_same_assessment_is_out_of_date_a_year_later() -> None:
    assessed_on = date(2026, 6, 15)
    valid_until, _ = validity(assessed_on, REF.settings.assessment_validity_months)
    with freeze_time("2027-06-15"):
        assert check_dates(assessed_on, valid_until, date.today()) == []  # last valid day
    with freeze_time("2027-06-16"):
        errors = check_dates(assessed_on, valid_until, date.today())
    assert fields(errors) == ["valid_until"]
    assert "a validity in the past" in errors[0].rule


TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    ("assessed_on", "valid_until", "expected"),
    [
        (date(2026, 6, 15), date(2027, 6, 15), []),
        (date(2025, 6, 16), date(2026, 6, 15), []),  # valid until today
        (date(2026, 6, 16), date(2027, 6, 16), ["assessed_on"]),  # assessed in the future
        (date(2025, 6, 1), date(2026, 6, 14), ["valid_until"]),  # validity in the past
        (date(2026, 6, 10), date(2026, 6, 9), ["valid_until"]),  # ends before it starts
        (date(2026, 7, 1), date(2026, 6, 30), ["assessed_on", "valid_until"]),
    ],
)
def test_check_dates(assessed_on: date, valid_until: date, expected: list[str]) -> None:
    assert fields(check_dates(assessed_on, valid_until, TODAY)) == expected


def test_check_dates_messages() -> None:
    (future,) = check_dates(date(2026, 6, 16), date(2027, 6, 16), TODAY)
    assert "2026-06-16 is in the future" in future.rule
    (past,) = check_dates(date(2025, 6, 1), date(2026, 6, 14), TODAY)
    assert past.rule.startswith("a validity in the past (2026-06-14")
    (before,) = check_dates(date(2026, 6, 10), date(2026, 6, 9), TODAY)
    assert "before the day assessed (2026-06-10)" in before.rule


# ------------------------------------------------------------- conditions --


@pytest.mark.parametrize(
    ("outcome", "conditions", "deadline", "expected"),
    [
        ("conditional", ["Sign the audit clause."], date(2026, 9, 13), []),
        ("conditional", ["Sign the audit clause.", "Train staff."], TODAY, []),  # due today
        ("conditional", [], date(2026, 9, 13), ["conditions"]),
        ("conditional", ["Sign the audit clause.", "  "], date(2026, 9, 13), ["conditions[2]"]),
        ("conditional", ["Sign the audit clause."], None, ["condition_deadline"]),
        ("conditional", ["Sign the audit clause."], date(2026, 6, 14), ["condition_deadline"]),
        ("conditional", [], None, ["conditions", "condition_deadline"]),
        ("approved", [], None, []),
        ("rejected", [], None, []),
        ("approved", ["Sign the audit clause."], None, ["conditions"]),
        ("rejected", [], date(2026, 9, 13), ["condition_deadline"]),
        ("approved", ["x"], date(2026, 9, 13), ["conditions", "condition_deadline"]),
        ("pending", [], None, ["outcome"]),
    ],
)
def test_check_conditions(outcome: str, conditions: list[str], deadline: date | None,
                          expected: list[str]) -> None:
    assert fields(check_conditions(outcome, conditions, deadline, TODAY)) == expected


def test_check_conditions_messages() -> None:
    (past,) = check_conditions("conditional", ["x"], date(2026, 6, 1), TODAY)
    assert "2026-06-01 is in the past" in past.rule
    (approved,) = check_conditions("approved", ["x"], None, TODAY)
    assert approved.rule.startswith("an approved outcome takes no conditions")
    (rejected,) = check_conditions("rejected", [], TODAY, TODAY)
    assert rejected.rule.startswith("a rejected outcome takes no deadline")
