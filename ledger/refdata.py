"""Reference data: the law and the company's settings, kept as TOML files in ``data/``.

The legal bases for providing personal data (APPI Art. 27, GDPR Art. 6/26/28),
the cross-border routes (APPI Art. 28), the transfer methods, the purposes of
use, the data-item categories, the kinds of recipient, the countries, the
settings and the contractor assessment checklist (APPI Art. 25, PPC general
guideline 3-4-4 and its annex; GDPR Art. 28) are read from TOML, checked, and returned as frozen objects. The rules
engine reads these objects; it does not restate the law in code.

A malformed file raises :class:`ledger.errors.ReferenceDataError` whose message
names the file, the entry (``legal_bases.toml: basis[2] (code 'law')``, counted
from 1) and the problem.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ledger
from ledger.errors import ReferenceDataError

__all__ = [
    "BASIS_CATEGORIES",
    "CHECKLIST_ID_PATTERN",
    "DATA_ENV",
    "EVIDENCE_KINDS",
    "FILES",
    "AssessmentSettings",
    "ChecklistArea",
    "ChecklistItem",
    "Country",
    "CrossBorderRoute",
    "DataItem",
    "EvidenceField",
    "LegalBasis",
    "PartyKind",
    "Purpose",
    "ReferenceData",
    "Settings",
    "TransferMethod",
    "clear_cache",
    "data_folder",
    "load_reference_data",
]

#: Categories a legal basis can belong to.
BASIS_CATEGORIES: tuple[str, ...] = (
    "consent",
    "exception",
    "opt_out",
    "outsourcing",
    "succession",
    "joint_use",
)

#: Kinds of evidence value: free text, or a calendar date (YYYY-MM-DD).
EVIDENCE_KINDS: tuple[str, ...] = ("text", "date")

#: Environment variable that points at another reference data folder.
DATA_ENV = "DISCLOSURE_LEDGER_DATA"

_CODE = re.compile(r"[a-z][a-z0-9_]*")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")

#: Pattern of a checklist item id: two capital letters, a hyphen, two digits ("TS-03").
CHECKLIST_ID_PATTERN = re.compile(r"[A-Z]{2}-\d{2}")


# --------------------------------------------------------------------------
# Frozen reference types
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvidenceField:
    """One piece of evidence a release must carry to show its basis or route applied."""

    code: str
    label: str
    kind: str  # "text" or "date"
    personal: bool  # True: may hold personal data, kept in the redactable vault
    help: str


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """A lawful ground for providing personal data to another party."""

    code: str
    name: str
    name_ja: str
    summary: str
    category: str
    appi: str
    gdpr: str
    statutory_record: bool
    statutory_reason: str
    bulk_allowed: bool
    allowed_recipient_kinds: tuple[str, ...]  # empty: any kind
    care_required_allowed: bool
    evidence: tuple[EvidenceField, ...]


@dataclass(frozen=True, slots=True)
class CrossBorderRoute:
    """A way a provision to a recipient in a foreign country is made lawful (APPI Art. 28)."""

    code: str
    name: str
    name_ja: str
    summary: str
    appi: str
    gdpr: str
    requires_basis_categories: tuple[str, ...]  # empty: any category
    requires_designated_country: bool
    requires_equivalent_measures: bool
    evidence: tuple[EvidenceField, ...]


@dataclass(frozen=True, slots=True)
class TransferMethod:
    """How the data was handed over."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose of use published in the privacy policy."""

    code: str
    name: str
    name_ja: str
    summary: str


@dataclass(frozen=True, slots=True)
class DataItem:
    """A category of personal data a release can contain."""

    code: str
    name: str
    name_ja: str
    care_required: bool  # APPI Art. 2(3)
    gdpr_special: bool  # GDPR Art. 9(1)


@dataclass(frozen=True, slots=True)
class PartyKind:
    """A kind of recipient."""

    code: str
    name: str
    name_ja: str
    government: bool  # APPI Art. 16(2) body: no statutory record
    summary: str


@dataclass(frozen=True, slots=True)
class Country:
    """A country or territory by ISO 3166-1 alpha-2 code."""

    code: str
    name: str
    designated: bool  # PPC Rule 15: equivalent protection system


@dataclass(frozen=True, slots=True)
class Settings:
    """Company-wide settings of the ledger."""

    home_country: str
    timezone: str
    retention_years: int
    contract_record_retention_years: int
    assessment_validity_months: int
    fiscal_year_start_month: int
    equivalent_measures_check_days: int
    checkpoint_every_entries: int
    checkpoint_when_app_closes: bool


@dataclass(frozen=True, slots=True)
class ChecklistArea:
    """An area of the contractor assessment checklist (a section of the guideline's annex,
    or the contract terms)."""

    code: str
    name: str
    name_ja: str
    guideline: str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One question of the contractor assessment checklist."""

    id: str
    area: str  # a ChecklistArea code
    question: str
    weight: int  # 1..5
    critical: bool  # not met: the contractor is rejected
    appi: str
    gdpr: str


@dataclass(frozen=True, slots=True)
class AssessmentSettings:
    """Defaults for contractor assessments (the validity is Settings.assessment_validity_months)."""

    condition_deadline_days: int
    expiring_within_days: int


@dataclass(frozen=True)
class ReferenceData:
    """All reference data, each mapping keyed by code in file order."""

    bases: Mapping[str, LegalBasis]
    routes: Mapping[str, CrossBorderRoute]
    methods: Mapping[str, TransferMethod]
    purposes: Mapping[str, Purpose]
    data_items: Mapping[str, DataItem]
    party_kinds: Mapping[str, PartyKind]
    countries: Mapping[str, Country]
    settings: Settings
    checklist_areas: Mapping[str, ChecklistArea]
    checklist: Mapping[str, ChecklistItem]  # keyed by item id, in file order
    assessment: AssessmentSettings


# --------------------------------------------------------------------------
# File schemas: key -> (value type, required)
# --------------------------------------------------------------------------

_TEXT = "text"
_BOOL = "bool"
_INT = "int"
_CODES = "codes"
_TABLES = "tables"

_Spec = Mapping[str, tuple[str, bool]]

_EVIDENCE_SPEC: _Spec = {
    "code": (_TEXT, True),
    "label": (_TEXT, True),
    "kind": (_TEXT, True),
    "personal": (_BOOL, True),
    "help": (_TEXT, True),
}

_BASIS_SPEC: _Spec = {
    "code": (_TEXT, True),
    "name": (_TEXT, True),
    "name_ja": (_TEXT, True),
    "summary": (_TEXT, True),
    "category": (_TEXT, True),
    "appi": (_TEXT, True),
    "gdpr": (_TEXT, True),
    "statutory_record": (_BOOL, True),
    "statutory_reason": (_TEXT, True),
    "bulk_allowed": (_BOOL, True),
    "allowed_recipient_kinds": (_CODES, True),
    "care_required_allowed": (_BOOL, True),
    "evidence": (_TABLES, False),
}

_ROUTE_SPEC: _Spec = {
    "code": (_TEXT, True),
    "name": (_TEXT, True),
    "name_ja": (_TEXT, True),
    "summary": (_TEXT, True),
    "appi": (_TEXT, True),
    "gdpr": (_TEXT, True),
    "requires_basis_categories": (_CODES, True),
    "requires_designated_country": (_BOOL, True),
    "requires_equivalent_measures": (_BOOL, True),
    "evidence": (_TABLES, False),
}

_METHOD_SPEC: _Spec = {"code": (_TEXT, True), "name": (_TEXT, True)}

_PURPOSE_SPEC: _Spec = {
    "code": (_TEXT, True),
    "name": (_TEXT, True),
    "name_ja": (_TEXT, True),
    "summary": (_TEXT, True),
}

_ITEM_SPEC: _Spec = {
    "code": (_TEXT, True),
    "name": (_TEXT, True),
    "name_ja": (_TEXT, True),
    "care_required": (_BOOL, True),
    "gdpr_special": (_BOOL, True),
}

_KIND_SPEC: _Spec = {
    "code": (_TEXT, True),
    "name": (_TEXT, True),
    "name_ja": (_TEXT, True),
    "government": (_BOOL, True),
    "summary": (_TEXT, True),
}

_COUNTRY_SPEC: _Spec = {
    "code": (_TEXT, True),
    "name": (_TEXT, True),
    "designated": (_BOOL, True),
}

_SETTINGS_SPEC: _Spec = {
    "home_country": (_TEXT, True),
    "timezone": (_TEXT, True),
    "retention_years": (_INT, True),
    "contract_record_retention_years": (_INT, True),
    "assessment_validity_months": (_INT, True),
    "fiscal_year_start_month": (_INT, True),
    "equivalent_measures_check_days": (_INT, True),
    "checkpoint_every_entries": (_INT, True),
    "checkpoint_when_app_closes": (_BOOL, True),
}

# Allowed range of each whole-number setting: (lowest, highest, reason shown).
_SETTING_RANGES: Mapping[str, tuple[int, int, str]] = {
    "retention_years": (3, 100, "PPC Rule 21 requires records to be kept for 3 years"),
    "contract_record_retention_years": (
        1,
        100,
        "PPC Rule 21 requires 1 year where a contract serves as the record",
    ),
    "assessment_validity_months": (1, 120, "an assessment must expire"),
    "fiscal_year_start_month": (1, 12, "January is 1, April is 4"),
    "equivalent_measures_check_days": (
        1,
        366,
        "PPC Rule 18 requires a check about once a year",
    ),
    "checkpoint_every_entries": (0, 10_000_000, "0 turns automatic checkpoints off"),
}

_AREA_SPEC: _Spec = {
    "code": (_TEXT, True),
    "name": (_TEXT, True),
    "name_ja": (_TEXT, True),
    "guideline": (_TEXT, True),
}

_CHECKLIST_ITEM_SPEC: _Spec = {
    "id": (_TEXT, True),
    "area": (_TEXT, True),
    "question": (_TEXT, True),
    "weight": (_INT, True),
    "critical": (_BOOL, True),
    "appi": (_TEXT, True),
    "gdpr": (_TEXT, True),
}

_ASSESSMENT_SPEC: _Spec = {
    "condition_deadline_days": (_INT, True),
    "expiring_within_days": (_INT, True),
}

# Allowed range of each [assessment] setting: (lowest, highest, reason shown).
_ASSESSMENT_RANGES: Mapping[str, tuple[int, int, str]] = {
    "condition_deadline_days": (1, 366, "conditions must be met within about a year"),
    "expiring_within_days": (1, 366, "the due list looks ahead at most about a year"),
}

#: Lowest and highest weight of a checklist item.
_WEIGHTS = (1, 5)

# The files of a reference data folder.
_LEGAL_BASES = "legal_bases.toml"
_PURPOSES = "purposes.toml"
_DATA_ITEMS = "data_items.toml"
_PARTY_KINDS = "party_kinds.toml"
_COUNTRIES = "countries.toml"
_SETTINGS = "settings.toml"
_CHECKLIST = "checklist.toml"

FILES: tuple[str, ...] = (
    _LEGAL_BASES,
    _PURPOSES,
    _DATA_ITEMS,
    _PARTY_KINDS,
    _COUNTRIES,
    _SETTINGS,
    _CHECKLIST,
)


# --------------------------------------------------------------------------
# Checking helpers
# --------------------------------------------------------------------------


def _fail(where: str, problem: str) -> NoReturn:
    raise ReferenceDataError(f"{where}: {problem}")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_value(value: Any, kind: str, key: str, where: str) -> Any:
    if kind == _TEXT:
        if not isinstance(value, str):
            _fail(where, f"{key} must be a text string in quotes, not {_shown(value)}")
        if not value.strip():
            _fail(where, f"{key} must not be empty")
        return value
    if kind == _BOOL:
        if not isinstance(value, bool):
            _fail(where, f"{key} must be true or false, not {_shown(value)}")
        return value
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(where, f"{key} must be a whole number, not {_shown(value)}")
        return value
    if kind == _CODES:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            _fail(
                where,
                f'{key} must be a list of codes in quotes, like ["a", "b"], not {_shown(value)}',
            )
        seen: set[str] = set()
        for code in value:
            if code in seen:
                _fail(where, f"{key} lists {code!r} twice")
            seen.add(code)
        return tuple(value)
    if kind == _TABLES:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            _fail(where, f"{key} must be a list of tables, not {_shown(value)}")
        return value
    raise AssertionError(f"unknown value kind {kind!r}")  # pragma: no cover


def _check_table(raw: Any, spec: _Spec, where: str) -> dict[str, Any]:
    """Check one table against its schema; return its values with defaults filled in."""
    if not isinstance(raw, dict):
        _fail(where, f"must be a table, not {_shown(raw)}")
    for key in raw:
        if key not in spec:
            _fail(where, f"unknown key {key!r} (allowed keys: {', '.join(spec)})")
    values: dict[str, Any] = {}
    for key, (kind, required) in spec.items():
        if key not in raw:
            if required:
                _fail(where, f"missing required key {key!r}")
            values[key] = [] if kind == _TABLES else ()
            continue
        values[key] = _check_value(raw[key], kind, key, where)
    return values


def _entries(
    raw: Any,
    *,
    where: str,
    table: str,
    spec: _Spec,
    code_pattern: re.Pattern[str] = _CODE,
    nested: bool = False,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Check an array of tables; yield (where, values) for each entry, codes unique.

    ``where`` is the file name, or for a nested array the parent entry. A
    top-level array must be present and non-empty; a nested one may be absent.
    """
    required = not nested
    if raw is None:
        if required:
            _fail(where, f"missing [[{table}]] tables")
        return
    if not isinstance(raw, list):
        _fail(where, f"{table} must be a list of [[{table}]] tables, not {_shown(raw)}")
    if required and not raw:
        _fail(where, f"has no [[{table}]] entries")
    seen: dict[str, str] = {}
    for index, item in enumerate(raw, start=1):
        label = f"{table}[{index}]"
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            label += f" (code {item['code']!r})"
        entry_where = f"{where}, {label}" if nested else f"{where}: {label}"
        values = _check_table(item, spec, entry_where)
        code = values["code"]
        if not code_pattern.fullmatch(code):
            if code_pattern is _COUNTRY_CODE:
                rule = "two capital letters (ISO 3166-1 alpha-2)"
            else:
                rule = "lower-case letters, digits and underscores, starting with a letter"
            _fail(entry_where, f"code {code!r} is not valid: it must be {rule}")
        if code in seen:
            _fail(entry_where, f"duplicate code {code!r} (also {seen[code]})")
        seen[code] = f"{table}[{index}]"
        yield entry_where, values


def _top_level(doc: dict[str, Any], file: str, allowed: tuple[str, ...]) -> None:
    for key in doc:
        if key not in allowed:
            expected = ", ".join(f"[[{a}]]" for a in allowed)
            _fail(file, f"unknown key {key!r} at top level (expected {expected})")


def _read(folder: Path, file: str) -> dict[str, Any]:
    path = folder / file
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"{file}: file not found in {folder}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{file}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(
            f"{file}: not valid UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    except OSError as exc:
        raise ReferenceDataError(f"{file}: cannot be read: {exc.strerror or exc}") from exc


def _frozen(items: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(items)


# --------------------------------------------------------------------------
# One loader per file
# --------------------------------------------------------------------------


def _load_party_kinds(folder: Path) -> Mapping[str, PartyKind]:
    doc = _read(folder, _PARTY_KINDS)
    _top_level(doc, _PARTY_KINDS, ("kind",))
    kinds = {}
    for _, v in _entries(doc.get("kind"), where=_PARTY_KINDS, table="kind", spec=_KIND_SPEC):
        kinds[v["code"]] = PartyKind(**v)
    return _frozen(kinds)


def _load_countries(folder: Path) -> Mapping[str, Country]:
    doc = _read(folder, _COUNTRIES)
    _top_level(doc, _COUNTRIES, ("country",))
    countries = {}
    for _, v in _entries(
        doc.get("country"),
        where=_COUNTRIES,
        table="country",
        spec=_COUNTRY_SPEC,
        code_pattern=_COUNTRY_CODE,
    ):
        countries[v["code"]] = Country(**v)
    return _frozen(countries)


def _load_data_items(folder: Path) -> Mapping[str, DataItem]:
    doc = _read(folder, _DATA_ITEMS)
    _top_level(doc, _DATA_ITEMS, ("item",))
    items = {}
    for _, v in _entries(doc.get("item"), where=_DATA_ITEMS, table="item", spec=_ITEM_SPEC):
        items[v["code"]] = DataItem(**v)
    return _frozen(items)


def _load_purposes(folder: Path) -> Mapping[str, Purpose]:
    doc = _read(folder, _PURPOSES)
    _top_level(doc, _PURPOSES, ("purpose",))
    purposes = {}
    for _, v in _entries(doc.get("purpose"), where=_PURPOSES, table="purpose", spec=_PURPOSE_SPEC):
        purposes[v["code"]] = Purpose(**v)
    return _frozen(purposes)


def _evidence(raw: list[dict[str, Any]], where: str) -> tuple[EvidenceField, ...]:
    fields = []
    for entry_where, v in _entries(
        raw, where=where, table="evidence", spec=_EVIDENCE_SPEC, nested=True
    ):
        if v["kind"] not in EVIDENCE_KINDS:
            _fail(entry_where, f"kind must be 'text' or 'date', not {v['kind']!r}")
        fields.append(EvidenceField(**v))
    return tuple(fields)


def _known(
    codes: tuple[str, ...],
    known: Mapping[str, Any] | tuple[str, ...],
    key: str,
    what: str,
    where: str,
) -> None:
    for code in codes:
        if code not in known:
            _fail(where, f"{key} names unknown {what} {code!r} (known: {', '.join(known)})")


def _load_legal_bases(
    folder: Path, party_kinds: Mapping[str, PartyKind]
) -> tuple[Mapping[str, LegalBasis], Mapping[str, CrossBorderRoute], Mapping[str, TransferMethod]]:
    doc = _read(folder, _LEGAL_BASES)
    _top_level(doc, _LEGAL_BASES, ("basis", "route", "method"))

    bases = {}
    for where, v in _entries(doc.get("basis"), where=_LEGAL_BASES, table="basis", spec=_BASIS_SPEC):
        if v["category"] not in BASIS_CATEGORIES:
            _fail(
                where,
                f"category must be one of {', '.join(BASIS_CATEGORIES)}, not {v['category']!r}",
            )
        _known(
            v["allowed_recipient_kinds"],
            party_kinds,
            "allowed_recipient_kinds",
            "party kind",
            where,
        )
        v["evidence"] = _evidence(v["evidence"], where)
        bases[v["code"]] = LegalBasis(**v)

    routes = {}
    for where, v in _entries(doc.get("route"), where=_LEGAL_BASES, table="route", spec=_ROUTE_SPEC):
        _known(
            v["requires_basis_categories"],
            BASIS_CATEGORIES,
            "requires_basis_categories",
            "category",
            where,
        )
        v["evidence"] = _evidence(v["evidence"], where)
        routes[v["code"]] = CrossBorderRoute(**v)

    methods = {}
    for _, v in _entries(doc.get("method"), where=_LEGAL_BASES, table="method", spec=_METHOD_SPEC):
        methods[v["code"]] = TransferMethod(**v)

    return _frozen(bases), _frozen(routes), _frozen(methods)


def _load_settings(folder: Path, countries: Mapping[str, Country]) -> Settings:
    doc = _read(folder, _SETTINGS)
    v = _check_table(doc, _SETTINGS_SPEC, _SETTINGS)
    if v["home_country"] not in countries:
        _fail(
            _SETTINGS,
            f"home_country {v['home_country']!r} is not a country code in {_COUNTRIES}",
        )
    try:
        ZoneInfo(v["timezone"])
    except (ZoneInfoNotFoundError, ValueError, OSError):
        _fail(
            _SETTINGS,
            f"timezone {v['timezone']!r} is not a known time zone name, such as 'Asia/Tokyo'",
        )
    for key, (low, high, reason) in _SETTING_RANGES.items():
        if not low <= v[key] <= high:
            _fail(_SETTINGS, f"{key} must be from {low} to {high}, not {v[key]} ({reason})")
    return Settings(**v)


def _load_checklist(
    folder: Path,
) -> tuple[Mapping[str, ChecklistArea], Mapping[str, ChecklistItem], AssessmentSettings]:
    doc = _read(folder, _CHECKLIST)
    for key in doc:
        if key not in ("assessment", "area", "item"):
            _fail(
                _CHECKLIST,
                f"unknown key {key!r} at top level (expected [assessment], [[area]], [[item]])",
            )

    raw_settings = doc.get("assessment")
    where = f"{_CHECKLIST}: [assessment]"
    if raw_settings is None:
        _fail(_CHECKLIST, "missing [assessment] table")
    s = _check_table(raw_settings, _ASSESSMENT_SPEC, where)
    for key, (low, high, reason) in _ASSESSMENT_RANGES.items():
        if not low <= s[key] <= high:
            _fail(where, f"{key} must be from {low} to {high}, not {s[key]} ({reason})")
    settings = AssessmentSettings(**s)

    areas = {}
    for _, v in _entries(doc.get("area"), where=_CHECKLIST, table="area", spec=_AREA_SPEC):
        areas[v["code"]] = ChecklistArea(**v)

    # Items are keyed by id, not code, so they are checked here rather than by _entries.
    raw_items = doc.get("item")
    if raw_items is None:
        _fail(_CHECKLIST, "missing [[item]] tables")
    if not isinstance(raw_items, list):
        _fail(_CHECKLIST, f"item must be a list of [[item]] tables, not {_shown(raw_items)}")
    if not raw_items:
        _fail(_CHECKLIST, "has no [[item]] entries")
    items: dict[str, ChecklistItem] = {}
    seen: dict[str, str] = {}
    low, high = _WEIGHTS
    for index, raw in enumerate(raw_items, start=1):
        label = f"item[{index}]"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            label += f" (id {raw['id']!r})"
        entry_where = f"{_CHECKLIST}: {label}"
        v = _check_table(raw, _CHECKLIST_ITEM_SPEC, entry_where)
        if not CHECKLIST_ID_PATTERN.fullmatch(v["id"]):
            _fail(
                entry_where,
                f"id {v['id']!r} is not valid: it must be two capital letters, a hyphen and "
                "two digits, like 'TS-03'",
            )
        if v["id"] in seen:
            _fail(entry_where, f"duplicate id {v['id']!r} (also {seen[v['id']]})")
        seen[v["id"]] = f"item[{index}]"
        if v["area"] not in areas:
            _fail(
                entry_where,
                f"area names unknown area {v['area']!r} (known: {', '.join(areas)})",
            )
        if not low <= v["weight"] <= high:
            _fail(entry_where, f"weight must be from {low} to {high}, not {v['weight']}")
        items[v["id"]] = ChecklistItem(**v)

    used = {item.area for item in items.values()}
    for index, code in enumerate(areas, start=1):
        if code not in used:
            _fail(
                f"{_CHECKLIST}: area[{index}] (code {code!r})",
                "has no [[item]] entries: every area needs at least one item",
            )
    return _frozen(areas), _frozen(items), settings


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def data_folder() -> Path:
    """The folder the reference data is read from.

    ``$DISCLOSURE_LEDGER_DATA`` if set; else the ``_data`` folder shipped inside
    the installed package; else the repository's ``data/`` folder.
    """
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser()
    installed = Path(ledger.__file__).parent / "_data"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "data"


def load_reference_data(folder: Path | str | None = None) -> ReferenceData:
    """Read, check and return the reference data of ``folder`` (default: :func:`data_folder`).

    The result is cached per folder; a failed load is not cached.
    """
    path = Path(folder) if folder is not None else data_folder()
    return _load_cached(path.expanduser().resolve())


def clear_cache() -> None:
    """Forget cached reference data, so the next load reads the files again."""
    _load_cached.cache_clear()


@functools.lru_cache(maxsize=16)
def _load_cached(folder: Path) -> ReferenceData:
    if not folder.is_dir():
        raise ReferenceDataError(f"reference data folder not found: {folder}")
    party_kinds = _load_party_kinds(folder)
    countries = _load_countries(folder)
    data_items = _load_data_items(folder)
    purposes = _load_purposes(folder)
    bases, routes, methods = _load_legal_bases(folder, party_kinds)
    settings = _load_settings(folder, countries)
    checklist_areas, checklist, assessment = _load_checklist(folder)
    return ReferenceData(
        bases=bases,
        routes=routes,
        methods=methods,
        purposes=purposes,
        data_items=data_items,
        party_kinds=party_kinds,
        countries=countries,
        settings=settings,
        checklist_areas=checklist_areas,
        checklist=checklist,
        assessment=assessment,
    )
