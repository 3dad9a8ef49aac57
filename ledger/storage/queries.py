"""Reads of the query tables through SQLModel; the service turns rows into domain objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from sqlalchemy import and_, or_
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression
from sqlmodel import Session, col, func, select

from .models import (
    VerificationRow,
    CheckpointExportRow,
    CheckpointRow,
    SigningKeyRow,
    AssessmentRow,
    ContractorRow,
    ContractorVersionRow,
    DisclosureChangeRow,
    DisclosureRow,
    DisclosureSubjectRow,
    ErasedCommitmentRow,
    ErasureRow,
    PartyRow,
    PartyVersionRow,
    VaultRow,
)


def parties(session: Session) -> Sequence[PartyRow]:
    return session.exec(select(PartyRow).order_by(PartyRow.registered_seq)).all()


def party(session: Session, party_id: str) -> PartyRow | None:
    return session.get(PartyRow, party_id)


def party_by_name(session: Session, name: str) -> PartyRow | None:
    return session.exec(select(PartyRow).where(func.lower(PartyRow.name) == name.lower())).first()


def party_versions(session: Session, party_id: str) -> Sequence[PartyVersionRow]:
    return session.exec(
        select(PartyVersionRow).where(PartyVersionRow.party_id == party_id).order_by(PartyVersionRow.seq)
    ).all()


def disclosure(session: Session, seq: int) -> tuple[DisclosureRow, str] | None:
    return session.exec(
        select(DisclosureRow, PartyRow.name)
        .join(PartyRow, PartyRow.party_id == DisclosureRow.recipient_id)
        .where(DisclosureRow.seq == seq)
    ).first()


@dataclass(frozen=True, slots=True)
class TextMatch:
    """What a free-text filter matches: the codes and ids whose names or codes contain it."""

    recipients: tuple[str, ...]
    bases: tuple[str, ...]
    purposes: tuple[str, ...]
    countries: tuple[str, ...]
    items: tuple[str, ...]
    seq: int | None

    @property
    def empty(self) -> bool:
        return not (self.recipients or self.bases or self.purposes or self.countries or self.items
                    or self.seq is not None)


def subject_values(session: Session, identifier: str) -> list[tuple[int, str]]:
    """(entry seq, commitment) of every vault value holding this subject identifier."""
    return list(session.exec(
        select(VaultRow.entry_seq, VaultRow.commitment)
        .where(VaultRow.value == identifier, VaultRow.field == "subject")
    ).all())


def _naming(identifier: str):
    """Disclosure seqs whose current subjects include this identifier.

    A subject's vault row belongs to the disclosure entry, or to a correction of it."""
    corrected = (
        select(DisclosureChangeRow.disclosure_seq)
        .where(DisclosureChangeRow.seq == VaultRow.entry_seq)
        .scalar_subquery()
    )
    return (
        select(DisclosureSubjectRow.disclosure_seq)
        .join(VaultRow, and_(
            DisclosureSubjectRow.disclosure_seq == func.coalesce(corrected, VaultRow.entry_seq),
            DisclosureSubjectRow.commitment == VaultRow.commitment,
        ))
        .where(VaultRow.value == identifier, VaultRow.field == "subject")
    )


def disclosure_seqs_naming(session: Session, identifier: str) -> list[int]:
    return sorted(set(session.exec(_naming(identifier)).all()))


def disclosures(
    session: Session,
    *,
    since: date | None = None,
    until: date | None = None,
    recipient_id: str | None = None,
    basis: str | None = None,
    statutory_only: bool = False,
    include_voided: bool = True,
    subject: str | None = None,
    text: "TextMatch | None" = None,
    before_seq: int | None = None,
    limit: int | None = 200,
) -> Sequence[tuple[DisclosureRow, str]]:
    """Newest first, one keyset page: every filter is a bound parameter."""
    query = select(DisclosureRow, PartyRow.name).join(
        PartyRow, PartyRow.party_id == DisclosureRow.recipient_id
    )
    if since is not None:
        query = query.where(DisclosureRow.last_day >= since.isoformat())
    if until is not None:
        query = query.where(DisclosureRow.first_day <= until.isoformat())
    if recipient_id is not None:
        query = query.where(DisclosureRow.recipient_id == recipient_id)
    if basis is not None:
        query = query.where(DisclosureRow.basis == basis)
    if statutory_only:
        query = query.where(DisclosureRow.statutory == True)  # noqa: E712
    if not include_voided:
        query = query.where(DisclosureRow.status != "voided")
    if subject is not None:
        query = query.where(col(DisclosureRow.seq).in_(_naming(subject)))
    if text is not None:
        # Free text, resolved by the caller into the codes and ids it matches: index-friendly.
        matches = [col(column).in_(values) for column, values in (
            (DisclosureRow.recipient_id, text.recipients), (DisclosureRow.basis, text.bases),
            (DisclosureRow.purpose, text.purposes), (DisclosureRow.country, text.countries)) if values]
        matches += [DisclosureRow.data_items.like(f'%"{item}"%') for item in text.items]
        if text.seq is not None:
            matches.append(DisclosureRow.seq == text.seq)
        query = query.where(or_(*matches))
    if before_seq is not None:
        query = query.where(DisclosureRow.seq < before_seq)
    query = query.order_by(col(DisclosureRow.seq).desc())
    if limit is not None:
        query = query.limit(limit)
    return session.exec(query).all()


def disclosure_changes(session: Session, disclosure_seq: int) -> Sequence[DisclosureChangeRow]:
    return session.exec(
        select(DisclosureChangeRow)
        .where(DisclosureChangeRow.disclosure_seq == disclosure_seq)
        .order_by(DisclosureChangeRow.seq)
    ).all()


def subjects_of(session: Session, disclosure_seq: int) -> list[str]:
    return list(session.exec(
        select(DisclosureSubjectRow.commitment)
        .where(DisclosureSubjectRow.disclosure_seq == disclosure_seq)
        .order_by(DisclosureSubjectRow.position)
    ).all())


def vault_values(session: Session, entry_seqs: list[int]) -> dict[str, str]:
    """commitment -> value for the vault rows of these entries."""
    if not entry_seqs:
        return {}
    rows = session.exec(
        select(VaultRow.commitment, VaultRow.value).where(col(VaultRow.entry_seq).in_(entry_seqs))
    ).all()
    return dict(rows)


def vault_rows_of_entries(session: Session, entry_seqs: list[int]) -> Sequence[VaultRow]:
    return session.exec(select(VaultRow).where(col(VaultRow.entry_seq).in_(entry_seqs))).all()


def erased(session: Session, commitments: list[str]) -> dict[str, int]:
    if not commitments:
        return {}
    rows = session.exec(
        select(ErasedCommitmentRow.commitment, ErasedCommitmentRow.erasure_seq)
        .where(col(ErasedCommitmentRow.commitment).in_(commitments))
    ).all()
    return dict(rows)


def counts(session: Session) -> dict[str, int]:
    return {
        "parties": session.exec(select(func.count()).select_from(PartyRow)).one(),
        "disclosures": session.exec(select(func.count()).select_from(DisclosureRow)).one(),
        "voided": session.exec(
            select(func.count()).select_from(DisclosureRow).where(DisclosureRow.status == "voided")
        ).one(),
    }


def contractor(session: Session, party_id: str) -> ContractorRow | None:
    return session.get(ContractorRow, party_id)


def contractor_versions(session: Session, party_id: str) -> list[int]:
    return list(session.exec(
        select(ContractorVersionRow.seq).where(ContractorVersionRow.party_id == party_id)
        .order_by(ContractorVersionRow.seq)
    ).all())


def assessments(session: Session, party_id: str) -> Sequence[AssessmentRow]:
    return session.exec(
        select(AssessmentRow).where(AssessmentRow.party_id == party_id).order_by(AssessmentRow.seq)
    ).all()


def overridden_disclosures(session: Session) -> Sequence[tuple[DisclosureRow, str]]:
    return session.exec(
        select(DisclosureRow, PartyRow.name)
        .join(PartyRow, PartyRow.party_id == DisclosureRow.recipient_id)
        .where(DisclosureRow.override == True, DisclosureRow.status != "voided")  # noqa: E712
        .order_by(DisclosureRow.seq)
    ).all()


def latest_release(session: Session, party_id: str) -> str | None:
    """The last day of the latest active release to this party."""
    return session.exec(
        select(func.max(DisclosureRow.last_day))
        .where(DisclosureRow.recipient_id == party_id, DisclosureRow.status != "voided")
    ).one()


def disclosure_count(session: Session, party_id: str) -> int:
    return session.exec(
        select(func.count()).select_from(DisclosureRow).where(DisclosureRow.recipient_id == party_id)
    ).one()


def last_verification(session: Session) -> VerificationRow | None:
    return session.exec(select(VerificationRow).order_by(col(VerificationRow.id).desc()).limit(1)).first()


def signing_keys(session: Session) -> Sequence[SigningKeyRow]:
    """Every signing key's public half, oldest first: the last one signs now."""
    return session.exec(select(SigningKeyRow).order_by(SigningKeyRow.id)).all()


def checkpoints(session: Session) -> Sequence[CheckpointRow]:
    return session.exec(select(CheckpointRow).order_by(CheckpointRow.id)).all()


def latest_checkpoint(session: Session, max_size: int | None = None) -> CheckpointRow | None:
    query = select(CheckpointRow)
    if max_size is not None:
        query = query.where(CheckpointRow.size <= max_size)
    return session.exec(query.order_by(col(CheckpointRow.size).desc(), col(CheckpointRow.id).desc()).limit(1)).first()


def checkpoint_at(session: Session, size: int) -> CheckpointRow | None:
    """The latest checkpoint made at exactly `size`."""
    return session.exec(select(CheckpointRow).where(CheckpointRow.size == size)
                        .order_by(col(CheckpointRow.id).desc()).limit(1)).first()


def latest_export(session: Session) -> tuple[CheckpointExportRow, CheckpointRow] | None:
    """The last checkpoint that left the ledger, with when and where it went."""
    return session.exec(
        select(CheckpointExportRow, CheckpointRow)
        .join(CheckpointRow, CheckpointRow.id == CheckpointExportRow.checkpoint_id)
        .order_by(col(CheckpointRow.size).desc(), col(CheckpointExportRow.id).desc()).limit(1)
    ).first()


def disclosure_counts_since(session: Session, since: date) -> list[tuple[str, bool, int]]:
    """(basis, statutory, count) of active disclosures provided on or after `since`."""
    return list(session.exec(
        select(DisclosureRow.basis, DisclosureRow.statutory, func.count())
        .where(DisclosureRow.last_day >= since.isoformat(), DisclosureRow.status != "voided")
        .group_by(DisclosureRow.basis, DisclosureRow.statutory)
    ).all())


# ---- the annual review's aggregates: grouped in SQL, one pass over the period each -----------

def _overlapping(query, since: date, until: date, *, scan: bool = False):
    """Disclosures whose days overlap [since, until]. scan=True reads the table in order rather
    than through the last_day index: a year is a large share of the rows, and the index would
    visit them in random order (measured three to ten times slower on 1,000,000 entries)."""
    last_day = DisclosureRow.last_day
    if scan:   # SQLite uses no index for `+column`
        last_day = UnaryExpression(last_day, operator=operators.custom_op("+"), type_=last_day.type)
    return query.where(last_day >= since.isoformat(), DisclosureRow.first_day <= until.isoformat())


def release_tallies(session: Session, since: date, until: date) -> list[tuple]:
    """(month of the first day, voided, recipient_id, basis, purpose, statutory, country, route,
    releases, persons named) of the disclosures overlapping the period, one row per group."""
    month = func.substr(DisclosureRow.first_day, 1, 7)
    voided = DisclosureRow.status == "voided"
    # Grouped first by an expression: no index matches, so SQLite reads the table in order
    # instead of walking the recipient index with a random table read per row.
    keys = (month, voided, DisclosureRow.recipient_id, DisclosureRow.basis, DisclosureRow.purpose,
            DisclosureRow.statutory, DisclosureRow.country, DisclosureRow.route)
    query = select(*keys, func.count(), func.sum(DisclosureRow.subject_count)).group_by(*keys)
    return list(session.exec(_overlapping(query, since, until, scan=True)).all())


def release_item_tallies(session: Session, since: date, until: date) -> list[tuple[str, int]]:
    """(data_items JSON text, releases) of the active disclosures overlapping the period: few
    distinct lists, so the items are counted from them rather than from every row."""
    query = (select(DisclosureRow.data_items, func.count())
             .where(DisclosureRow.status != "voided").group_by(DisclosureRow.data_items))
    return list(session.exec(_overlapping(query, since, until, scan=True)).all())


def releases_in_period(session: Session, since: date, until: date, *, recipient_ids: Sequence[str] | None = None,
                       bases: Sequence[str] | None = None, limit: int | None = None
                       ) -> Sequence[tuple[DisclosureRow, str]]:
    """Active disclosures overlapping the period, oldest entry first (optionally only to these
    recipients, or on these bases)."""
    query = _overlapping(select(DisclosureRow, PartyRow.name)
                         .join(PartyRow, PartyRow.party_id == DisclosureRow.recipient_id)
                         .where(DisclosureRow.status != "voided"), since, until)
    if recipient_ids is not None:
        query = query.where(col(DisclosureRow.recipient_id).in_(recipient_ids))
    if bases is not None:
        query = query.where(col(DisclosureRow.basis).in_(bases))
    query = query.order_by(DisclosureRow.seq)
    return session.exec(query.limit(limit) if limit is not None else query).all()


def overridden_in_period(session: Session, since: date, until: date) -> Sequence[tuple[DisclosureRow, str]]:
    """Active disclosures of the period forced past the contractor register, oldest first."""
    return session.exec(_overlapping(
        select(DisclosureRow, PartyRow.name).join(PartyRow, PartyRow.party_id == DisclosureRow.recipient_id)
        .where(DisclosureRow.override == True, DisclosureRow.status != "voided"),  # noqa: E712
        since, until).order_by(DisclosureRow.seq)).all()


def released_after_contract_end(session: Session, since: date, until: date
                                ) -> Sequence[tuple[DisclosureRow, str, str]]:
    """(row, recipient name, contract end) of active disclosures of the period, not overridden,
    that run past the end of the recipient's contract in the register, oldest first."""
    return session.exec(_overlapping(
        select(DisclosureRow, PartyRow.name, ContractorRow.contract_ends_on)
        .join(PartyRow, PartyRow.party_id == DisclosureRow.recipient_id)
        .join(ContractorRow, ContractorRow.party_id == DisclosureRow.recipient_id)
        .where(col(ContractorRow.contract_ends_on).is_not(None),
               DisclosureRow.last_day > ContractorRow.contract_ends_on,
               DisclosureRow.override == False, DisclosureRow.status != "voided"),  # noqa: E712
        since, until).order_by(DisclosureRow.seq)).all()


def _retention_between(query, start: date, end: date):
    return query.where(DisclosureRow.retention_until >= start.isoformat(),
                       DisclosureRow.retention_until <= end.isoformat(), DisclosureRow.status != "voided")


def retention_between(session: Session, start: date, end: date, limit: int | None = None
                      ) -> Sequence[tuple[DisclosureRow, str]]:
    """Active disclosures whose retention ends in [start, end], by that date, then entry."""
    query = _retention_between(select(DisclosureRow, PartyRow.name)
                               .join(PartyRow, PartyRow.party_id == DisclosureRow.recipient_id), start, end)
    query = query.order_by(DisclosureRow.retention_until, DisclosureRow.seq)
    return session.exec(query.limit(limit) if limit is not None else query).all()


def retention_count(session: Session, start: date, end: date) -> int:
    return session.exec(_retention_between(select(func.count()).select_from(DisclosureRow), start, end)).one()


def all_disclosure_changes(session: Session) -> Sequence[DisclosureChangeRow]:
    """Every correction and void, by entry."""
    return session.exec(select(DisclosureChangeRow).order_by(DisclosureChangeRow.seq)).all()


def all_erasures(session: Session) -> Sequence[ErasureRow]:
    return session.exec(select(ErasureRow).order_by(ErasureRow.seq)).all()


RELEASE_ROW_COLUMNS = (
    DisclosureRow.seq, DisclosureRow.first_day, DisclosureRow.last_day, DisclosureRow.bulk,
    DisclosureRow.recipient_id, PartyRow.name, PartyRow.kind, DisclosureRow.country, DisclosureRow.route,
    DisclosureRow.basis, DisclosureRow.purpose, DisclosureRow.data_items, DisclosureRow.subject_count,
    DisclosureRow.statutory, DisclosureRow.statutory_ground, DisclosureRow.status, DisclosureRow.version,
    DisclosureRow.retention_until, DisclosureRow.assessment_seq, DisclosureRow.override,
    DisclosureRow.recorded_at, DisclosureRow.recorded_by,
)


def release_rows_after(session: Session, since: date, until: date, after_seq: int, limit: int) -> list[tuple]:
    """One keyset page of the disclosures overlapping the period (voided too), as plain column
    tuples in RELEASE_ROW_COLUMNS order: the entries after `after_seq`, oldest first."""
    query = _overlapping(select(*RELEASE_ROW_COLUMNS)
                         .join(PartyRow, PartyRow.party_id == DisclosureRow.recipient_id)
                         .where(DisclosureRow.seq > after_seq), since, until)
    return list(session.exec(query.order_by(DisclosureRow.seq).limit(limit)).all())
