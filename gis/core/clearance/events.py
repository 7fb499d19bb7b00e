"""What an accepted row says over time: its dated status events, and the stated status
against later milestone dates on the same row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol

from gis.core.clearance.columns import DATE_STATUS
from gis.core.clearance.status import Status

__all__ = ["IssueRecorder", "agree_with_dates", "row_events", "join_problem"]


class IssueRecorder(Protocol):
    """The row's issue recorder (``parse_sheet``'s ``issue``)."""

    def __call__(self, model: str, value: object, rule: str, message: str,
                 severity: str = ..., *, _row: int = ..., _errors: list[str] = ...,
                 _bad: set[str] = ...) -> None: ...


def agree_with_dates(rec: dict[str, object], status: Status, dates: dict[str, dt.date | None],
                     issue: IssueRecorder) -> tuple[Status, dict[str, dt.date | None]]:
    """The sheet's own statement wins: milestone dates of steps after the stated status are
    not used as events, and the disagreement is listed."""
    later = {m: d for m, d in dates.items() if d is not None and DATE_STATUS[m].rank > status.rank
             and not (status.cleared and DATE_STATUS[m].cleared)}
    if not later:
        return status, dates
    names = ", ".join(f"{m} {d:%d/%m/%Y}" for m, d in later.items())
    rec["problem"] = join_problem(rec.get("problem"), "status_disagrees_with_dates")
    issue("status", rec.get("status_text"), "status_disagrees_with_dates",
          f"the sheet says {rec.get('status_text')!s} ({status.value}) but the row has later "
          f"milestone dates ({names}); the stated status is kept and the dates are listed",
          severity="warning")
    return status, {m: (None if m in later else d) for m, d in dates.items()}


def row_events(rec: Mapping[str, object], status: Status,
               dates: Mapping[str, dt.date | None]) -> list[dict[str, object]]:
    """Dated steps of one row: each milestone date is an event; the current status without a
    date of its own, and an amount without its date, are known from the sheet's ``known_on``."""
    out = []
    base = {"project_id": rec["project_id"], "parcel_key": rec["parcel_key"],
            "sheet": rec["sheet"], "sheet_row": rec["sheet_row"]}
    for model, step in DATE_STATUS.items():
        date = dates.get(model)
        if date is None:
            continue
        amount = (rec.get("compensation_approved_vnd") if step is Status.PLAN_APPROVED else
                  rec.get("compensation_paid_vnd") if step is Status.PAID else None)
        out.append({**base, "status": step.value, "rank": step.rank, "date": date,
                    "amount_vnd": amount, "dated_by": model})
    later_steps = ("date_paid", "date_recovery_decided", "date_handed_over")
    for step, date_field, amount_field, after in (
            (Status.PLAN_APPROVED, "date_approved", "compensation_approved_vnd", later_steps),
            (Status.PAID, "date_paid", "compensation_paid_vnd", later_steps[1:])):
        if (status.rank >= step.rank and dates.get(date_field) is None
                and rec.get(amount_field) is not None):
            # past this step with an amount but no date: dated by the next step's date, else by
            # the day the sheet describes, so the money is not lost from the totals
            later = [d for m in after if (d := dates.get(m)) is not None]
            out.append({**base, "status": step.value, "rank": step.rank,
                        "date": min(later) if later else rec["known_on"],
                        "amount_vnd": rec.get(amount_field),
                        "dated_by": "inferred" if later else "known_on"})
    if not any(e["status"] == status.value for e in out):
        out.append({**base, "status": status.value, "rank": status.rank,
                    "date": rec["known_on"], "amount_vnd": None, "dated_by": "known_on"})
    return out


def join_problem(old: object, new: str) -> str:
    """A comma-separated list of problem codes with one more."""
    return new if not old else f"{old},{new}"
