"""Violation cases: the lifecycle of DOMAIN.md §3.4, document numbers, changes with history.

A case is a plain mapping (one row of the ``violation_cases`` table). :func:`apply_changes`
checks a change against the lifecycle and returns the new row and its history lines, or raises
:class:`~gis.errors.CaseError` leaving the case as it was. Cases are never deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from gis.core.enums import ParsedEnum
from gis.errors import CaseError

__all__ = ["CaseStatus", "TRANSITIONS", "DocumentNumber", "parse_document_number",
           "apply_changes", "EDITABLE", "MINUTES_DAYS", "overdue"]


class CaseStatus(ParsedEnum):
    """Case lifecycle (DOMAIN.md §3.4), plus DISMISSED for "not a violation"."""

    DETECTED = "DETECTED"
    VERIFYING = "VERIFYING"
    MINUTES_ISSUED = "MINUTES_ISSUED"
    EXPLANATION = "EXPLANATION"
    DECISION_ISSUED = "DECISION_ISSUED"
    FINE_PAID = "FINE_PAID"
    REMEDY_PENDING = "REMEDY_PENDING"
    ENFORCEMENT = "ENFORCEMENT"
    CLOSED = "CLOSED"
    ESCALATED = "ESCALATED"
    DISMISSED = "DISMISSED"

    @classmethod
    def what(cls) -> str:
        return "status"

    @classmethod
    def fold(cls, text: str) -> str:
        return text.strip().upper()

    @classmethod
    def error(cls, message: str, value: object) -> Exception:
        return CaseError(message, field="status", value=value)


S = CaseStatus
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.DETECTED: frozenset({S.VERIFYING, S.MINUTES_ISSUED, S.DISMISSED}),
    S.VERIFYING: frozenset({S.MINUTES_ISSUED, S.DISMISSED}),
    S.MINUTES_ISSUED: frozenset({S.EXPLANATION, S.DECISION_ISSUED, S.ESCALATED, S.DISMISSED}),
    S.EXPLANATION: frozenset({S.DECISION_ISSUED, S.ESCALATED, S.DISMISSED}),
    S.DECISION_ISSUED: frozenset({S.FINE_PAID, S.REMEDY_PENDING, S.ENFORCEMENT, S.CLOSED,
                                  S.ESCALATED}),
    S.FINE_PAID: frozenset({S.REMEDY_PENDING, S.CLOSED}),
    S.REMEDY_PENDING: frozenset({S.CLOSED, S.ENFORCEMENT, S.ESCALATED}),
    S.ENFORCEMENT: frozenset({S.CLOSED, S.ESCALATED}),
    S.ESCALATED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.DISMISSED: frozenset(),
}
#: fields an update may set besides status
EDITABLE = ("kind", "inspector", "notes", "minutes_no", "minutes_date", "decision_no",
            "decision_date", "conclusion_no", "conclusion_date", "remedy_deadline", "fine_vnd",
            "closed_reason", "owner_name", "occurred_on")
#: Law on Handling Administrative Violations, as summarised (DOMAIN.md §3.4): a decision within
#: 7 working days of the minutes (10 with an explanation) — 14 calendar days is the alarm here.
MINUTES_DAYS = 14

_DOC = re.compile(r"^\s*(?:số\s*:?\s*)?(\d+)\s*/\s*([A-ZĐ]+)-([A-ZĐ0-9]+)(?:-([A-ZĐa-z0-9]+))?\s*$",
                  re.IGNORECASE)
_DOC_TYPES = {"minutes_no": ("BB",), "decision_no": ("QĐ", "QD"), "conclusion_no": ("KL",)}


@dataclass(frozen=True)
class DocumentNumber:
    """``Số: <seq>/<type>-<issuer>[-<unit>]`` (Decree 30/2020 clerical rules)."""

    number: int
    doc_type: str
    issuer: str
    unit: str | None

    def __str__(self) -> str:
        tail = f"-{self.unit}" if self.unit else ""
        return f"{self.number}/{self.doc_type}-{self.issuer}{tail}"


def parse_document_number(text: str, *, field: str = "document") -> DocumentNumber:
    """Parse a document number; the type must suit the field (minutes BB, decision QĐ, KL).

    >>> str(parse_document_number("Số: 12/BB-VPHC", field="minutes_no"))
    '12/BB-VPHC'
    >>> parse_document_number("316/KL-STNMT-TTr", field="conclusion_no").unit
    'TTr'
    """
    m = _DOC.match(str(text))
    if not m:
        raise CaseError(f"document number {text!r} does not parse; expected e.g. 12/BB-VPHC, "
                        "45/QĐ-XPHC or 316/KL-STNMT-TTr", field=field, value=text)
    doc = DocumentNumber(int(m.group(1)), m.group(2).upper(), m.group(3).upper(), m.group(4))
    allowed = _DOC_TYPES.get(field)
    if allowed and doc.doc_type not in allowed:
        raise CaseError(f"{field} {text!r} is a {doc.doc_type} document; expected type "
                        f"{'/'.join(allowed)}", field=field, value=text)
    return doc


def _date(value: object, field: str) -> str | None:
    if value in (None, ""):
        return None
    from gis.core.clearance.values import parse_date

    try:
        return parse_date(value).isoformat()  # type: ignore[union-attr]
    except (ValueError, AttributeError):
        raise CaseError(f"{field} {value!r} is not a date (dd/mm/yyyy or YYYY-MM-DD)",
                        field=field, value=value) from None


def apply_changes(case: Mapping[str, object], changes: Mapping[str, object], *, who: str,
                  at: dt.datetime) -> tuple[dict[str, object], list[dict[str, object]]]:
    """Return the changed case and its history lines; raise CaseError and change nothing when a
    change is not allowed."""
    new = dict(case)
    unknown = [k for k in changes if k not in EDITABLE and k != "status"]
    if unknown:
        raise CaseError(f"cannot change {', '.join(unknown)}; editable: status, "
                        f"{', '.join(EDITABLE)}", field=unknown[0])
    for key, value in changes.items():
        if key == "status" or value is None:
            continue
        if key in _DOC_TYPES:
            value = str(parse_document_number(str(value), field=key))
        elif key.endswith(("_date", "_deadline", "_on")):
            value = _date(value, key)
        elif key == "fine_vnd":
            try:
                value = int(value)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                raise CaseError(f"fine_vnd {value!r} is not a whole number of VND",
                                field=key, value=value) from None
        elif key == "kind":
            from gis.core.violations.rules import KINDS

            if value not in KINDS:
                raise CaseError(f"unknown kind {value!r}; valid: {', '.join(KINDS)}",
                                field=key, value=value)
        new[key] = value
    current_status = CaseStatus.parse(str(case["status"]))
    if current_status in (S.CLOSED, S.DISMISSED):
        locked = [k for k in changes if k not in ("notes",) and changes[k] is not None]
        if locked:
            raise CaseError(f"case {case.get('case_id')} is {current_status.value}: only notes can "
                            f"change, not {', '.join(locked)}", field=locked[0])
    if changes.get("status") is not None:
        current = CaseStatus.parse(str(case["status"]))
        target = CaseStatus.parse(str(changes["status"]))
        if target is not current:
            if target not in TRANSITIONS[current]:
                allowed = ", ".join(s.value for s in sorted(TRANSITIONS[current], key=list(S).index))
                raise CaseError(f"case {case.get('case_id')}: {current.value} → {target.value} is "
                                f"not allowed; from {current.value}: {allowed or 'none (final)'}",
                                field="status", value=target.value)
            _require(new, target)
            new["status"] = target.value
    _check_documents(new)
    new["updated_at"] = at.isoformat(timespec="seconds")
    history = [{"case_id": case.get("case_id"), "at": new["updated_at"], "who": who,
                "field": key, "old": None if case.get(key) is None else str(case.get(key)),
                "new": None if new.get(key) is None else str(new.get(key))}
               for key in ("status", *EDITABLE) if str(case.get(key)) != str(new.get(key))]
    if not history:
        raise CaseError(f"case {case.get('case_id')}: nothing to change", field=None)
    return new, history


def _require(case: Mapping[str, object], target: CaseStatus) -> None:
    def need(field: str, why: str) -> None:
        if case.get(field) in (None, ""):
            raise CaseError(f"case {case.get('case_id')}: {why} (set {field})", field=field)

    if target is S.MINUTES_ISSUED:
        need("minutes_no", "minutes need their number, e.g. 12/BB-VPHC")
        need("minutes_date", "minutes need their date")
    elif target is S.DECISION_ISSUED:
        need("minutes_no", "a decision needs minutes first")
        need("decision_no", "a decision needs its number, e.g. 45/QĐ-XPHC")
        need("decision_date", "a decision needs its date")
    elif target is S.REMEDY_PENDING:
        need("remedy_deadline", "a remedy needs a deadline")
    elif target in (S.CLOSED, S.DISMISSED):
        need("closed_reason", "closing or dismissing needs a reason")


_AFTER = {  # a document may be recorded from this status on (or with the change to it)
    "minutes_no": S.MINUTES_ISSUED, "minutes_date": S.MINUTES_ISSUED,
    "decision_no": S.DECISION_ISSUED, "decision_date": S.DECISION_ISSUED,
    "fine_vnd": S.DECISION_ISSUED, "remedy_deadline": S.DECISION_ISSUED,
}
_ORDER = list(S)


def _check_documents(case: Mapping[str, object]) -> None:
    """Documents belong to the steps that produce them, and their dates are in order."""
    status = CaseStatus.parse(str(case["status"]))
    reached = {S.MINUTES_ISSUED: status not in (S.DETECTED, S.VERIFYING),
               S.DECISION_ISSUED: status in (S.DECISION_ISSUED, S.FINE_PAID, S.REMEDY_PENDING,
                                             S.ENFORCEMENT, S.CLOSED, S.ESCALATED)}
    for field, step in _AFTER.items():
        if case.get(field) not in (None, "") and not reached[step]:
            raise CaseError(f"case {case.get('case_id')}: {field} belongs to {step.value}, but the "
                            f"case is {status.value}; record it with the change to {step.value}",
                            field=field)
    if case.get("decision_no") and not case.get("minutes_no"):
        raise CaseError(f"case {case.get('case_id')}: a decision needs minutes first",
                        field="decision_no")
    dates = [(f, case.get(f)) for f in ("minutes_date", "decision_date", "remedy_deadline")]
    known = [(f, str(v)[:10]) for f, v in dates if v not in (None, "")]
    for (f1, d1), (f2, d2) in zip(known, known[1:]):
        if d2 < d1:
            raise CaseError(f"case {case.get('case_id')}: {f2} {d2} is before {f1} {d1}",
                            field=f2)


def overdue(case: Mapping[str, object], *, today: dt.date) -> str | None:
    """Why a case is overdue, or None: minutes without a decision after the legal period, or a
    remedy past its deadline."""
    status = str(case.get("status"))
    if status in (S.MINUTES_ISSUED.value, S.EXPLANATION.value) and case.get("minutes_date"):
        days = (today - dt.date.fromisoformat(str(case["minutes_date"])[:10])).days
        if days > MINUTES_DAYS:
            return f"minutes {case.get('minutes_no')} without a decision for {days} days"
    if status in (S.DECISION_ISSUED.value, S.FINE_PAID.value, S.REMEDY_PENDING.value) and \
            case.get("remedy_deadline"):
        deadline = dt.date.fromisoformat(str(case["remedy_deadline"])[:10])
        if today > deadline:
            return f"remedy deadline {deadline:%d/%m/%Y} passed"
    return None
