"""What every report says about the ledger's integrity: the verification result, and the signed
checkpoints at the end of the period and at report time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from ..domain import CheckpointView
from ..service import RECORDED_AT_FORMAT, LedgerService

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class VerificationResult:
    ok: bool
    size: int
    root: str
    first_bad_seq: int | None
    problems: tuple[str, ...]
    checked_at: str
    fresh: bool          # run for this report (False: the last logged result)


@dataclass(frozen=True, slots=True)
class Integrity:
    verification: VerificationResult | None
    size: int
    root: str
    size_at_period_end: int | None
    checkpoint_at_period_end: CheckpointView | None
    checkpoint_now: CheckpointView | None
    verifier_keys: tuple[str, ...]

    def as_dict(self) -> dict:
        def cp(c: CheckpointView | None):
            return None if c is None else {"size": c.size, "root": c.root, "key_id": c.key_id,
                                           "made_at": c.made_at, "reason": c.reason, "note": c.note}
        v = self.verification
        return {
            "size": self.size, "root": self.root, "size_at_period_end": self.size_at_period_end,
            "verification": None if v is None else {
                "ok": v.ok, "size": v.size, "root": v.root, "first_bad_seq": v.first_bad_seq,
                "problems": list(v.problems), "checked_at": v.checked_at, "run_for_this_report": v.fresh},
            "checkpoint_at_period_end": cp(self.checkpoint_at_period_end),
            "checkpoint_now": cp(self.checkpoint_now),
            "verifier_keys": list(self.verifier_keys),
        }


def moment_after(service: LedgerService, day: date) -> str:
    """The first instant after `day` in the company's time zone, as a recorded_at string (UTC)."""
    local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=service.zone)
    return local.astimezone(timezone.utc).strftime(RECORDED_AT_FORMAT)


def verification(service: LedgerService, run: bool, progress: Progress | None = None) -> VerificationResult | None:
    """Verify now (run=True), or take the last logged verification."""
    if run:
        report = service.verify(progress=(lambda done, total: progress(f"verifying {done:,} of {total:,} entries"))
                                if progress else None)
        logged = service.last_verification()
        checked_at = logged.verified_at if logged is not None else service.now().strftime(RECORDED_AT_FORMAT)
        return VerificationResult(report.ok, report.size, report.root, report.first_bad_seq,
                                  tuple(p.what for p in report.problems), checked_at, True)
    last = service.last_verification()
    if last is None:
        return None
    return VerificationResult(last.ok, last.size, last.root, last.first_bad_seq, (), last.verified_at, False)


def current_checkpoint(service: LedgerService, reason: str = "report") -> CheckpointView | None:
    """A checkpoint of the ledger as it is now: signed for the report when a key is at hand,
    else the latest one there is (which may be older than the ledger)."""
    if service.can_sign():
        return service.make_checkpoint(reason)
    return service.latest_checkpoint()


def integrity(service: LedgerService, *, verify: bool, size_at_period_end: int | None,
              progress: Progress | None = None, sign: bool = True) -> Integrity:
    result = verification(service, verify, progress)
    now = current_checkpoint(service) if sign else service.latest_checkpoint()
    at_end = service.latest_checkpoint(size_at_period_end) if size_at_period_end else None
    size = service.store.size()
    return Integrity(result, size, service.root_at(size), size_at_period_end, at_end, now,
                     tuple(service.verifier_keys()))
