"""Query tables (projections of the entries and the vault), as SQLModel classes.

The DDL lives in the versioned SQL files next to this module; a test holds
these classes and the migrated schema equal, column for column.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class Digest(TypeDecorator):
    """A commitment stored as its 32 bytes and read and written as the lowercase hex leaves hold."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else bytes.fromhex(value)

    def process_result_value(self, value, dialect):
        return None if value is None else bytes(value).hex()


class PartyRow(SQLModel, table=True):
    __tablename__ = "party"
    party_id: str = Field(primary_key=True)
    name: str
    kind: str
    country: str
    address: str
    representative: Optional[str] = None
    contact: Optional[str] = None
    registered_seq: int
    version_seq: int
    version: int


class PartyVersionRow(SQLModel, table=True):
    __tablename__ = "party_version"
    seq: int = Field(primary_key=True)
    party_id: str
    version: int
    name: str
    kind: str
    country: str
    address: str
    representative: Optional[str] = None
    contact: Optional[str] = None
    reason: Optional[str] = None


class DisclosureRow(SQLModel, table=True):
    __tablename__ = "disclosure"
    seq: int = Field(primary_key=True)
    recipient_id: str
    first_day: str
    last_day: str
    bulk: bool
    subject_count: int
    group_count: Optional[int] = None
    data_items: str
    purpose: str
    basis: str
    country: str
    route: Optional[str] = None
    method: Optional[str] = None
    contract_as_record: bool
    statutory: bool
    statutory_ground: str
    retention_until: str
    status: str
    version: int
    last_change_seq: Optional[int] = None
    recorded_at: str
    recorded_by: str
    assessment_seq: Optional[int] = None
    override: bool


class DisclosureSubjectRow(SQLModel, table=True):
    __tablename__ = "disclosure_subject"
    disclosure_seq: int = Field(primary_key=True)
    position: int = Field(primary_key=True)
    commitment: str = Field(sa_type=Digest)


class DisclosureChangeRow(SQLModel, table=True):
    __tablename__ = "disclosure_change"
    seq: int = Field(primary_key=True)
    disclosure_seq: int
    action: str
    fields: str
    reason_commitment: str


class ContractorRow(SQLModel, table=True):
    __tablename__ = "contractor"
    party_id: str = Field(primary_key=True)
    service: str
    data_items: str
    contract_reference: Optional[str] = None
    contract_signed_on: Optional[str] = None
    contract_ends_on: Optional[str] = None
    contract_clauses: str
    certifications: str
    works_for: Optional[str] = None
    engagement_approved: bool
    equivalent_measures: bool
    measures_checked_on: Optional[str] = None
    version: int
    version_seq: int


class ContractorVersionRow(SQLModel, table=True):
    __tablename__ = "contractor_version"
    seq: int = Field(primary_key=True)
    party_id: str
    version: int


class AssessmentRow(SQLModel, table=True):
    __tablename__ = "assessment"
    seq: int = Field(primary_key=True)
    party_id: str
    assessor: str
    assessed_on: str
    score: int
    derived_outcome: str
    outcome: str
    overridden: bool
    condition_deadline: Optional[str] = None
    valid_until: str
    next_review: str


class ErasureRow(SQLModel, table=True):
    __tablename__ = "erasure"
    seq: int = Field(primary_key=True)
    reason: str
    commitment_count: int


class ErasedCommitmentRow(SQLModel, table=True):
    __tablename__ = "erased_commitment"
    commitment: str = Field(primary_key=True)
    erasure_seq: int


class VaultRow(SQLModel, table=True):
    __tablename__ = "vault"
    entry_seq: int = Field(primary_key=True)
    commitment: str = Field(primary_key=True, sa_type=Digest)
    field: str
    salt: bytes
    value: str


class VerificationRow(SQLModel, table=True):
    __tablename__ = "verification_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    verified_at: str
    ok: bool
    size: int
    root: str
    first_bad_seq: Optional[int] = None
    problems: int


class SigningKeyRow(SQLModel, table=True):
    __tablename__ = "signing_key"
    id: Optional[int] = Field(default=None, primary_key=True)
    key_id: str
    verifier_key: str
    created_at: str
    created_by: str


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoint"
    id: Optional[int] = Field(default=None, primary_key=True)
    size: int
    root: bytes
    key_id: str
    note: str
    made_at: str
    reason: str


class CheckpointExportRow(SQLModel, table=True):
    __tablename__ = "checkpoint_export"
    id: Optional[int] = Field(default=None, primary_key=True)
    checkpoint_id: int
    exported_at: str
    destination: str


class RestoreLogRow(SQLModel, table=True):
    __tablename__ = "restore_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    restored_at: str
    restored_by: str
    source: str
    size: int
    root: str
    replaced_size: Optional[int] = None
    replaced_root: Optional[str] = None
    replaced_kept_at: Optional[str] = None
    forced: bool
    reason: Optional[str] = None
    refused_because: Optional[str] = None


PROJECTION_TABLES = (
    PartyRow,
    PartyVersionRow,
    DisclosureRow,
    DisclosureSubjectRow,
    DisclosureChangeRow,
    ContractorRow,
    ContractorVersionRow,
    AssessmentRow,
    ErasureRow,
    ErasedCommitmentRow,
)
