"""Clearance progress "as of" a date, per parcel, project, ward and district (DOMAIN.md §7.1).

Inputs are frames: overlap pairs (parcel × project, from :mod:`gis.core.overlay`), projects,
the latest sheet records (households, complaints) and the dated status events of every sheet
ever loaded. The status of a pair on day D is its latest event dated on or before D; figures are
therefore reproducible for any past date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.core.clearance.status import CLEARED, Status

__all__ = ["Progress", "compute_progress", "NOT_STARTED", "FIGURES"]

NOT_STARTED = "NOT_STARTED"
PAYMENT_DAYS = 30  # Land Law 2024 Art. 94 cl. 3: pay within 30 days of plan approval
FIGURES = ["parcels_affected", "parcels_handed_over", "parcels_not_started", "area_affected_m2",
           "area_recovered_m2", "plans_total", "plans_approved", "households",
           "compensation_approved_vnd", "compensation_paid_vnd", "overdue_payments",
           "complaints", "area_recovered_this_year_m2", "area_recovered_last_year_m2"]
_CLEARED = [s.value for s in CLEARED]
_APPROVED_RANK = Status.PLAN_APPROVED.rank


@dataclass
class Progress:
    """Everything a clearance report shows, as of one date."""

    as_of: dt.date
    parcels: pd.DataFrame  # one row per parcel × project pair
    projects: pd.DataFrame
    wards: pd.DataFrame
    district: dict[str, object]
    problems: pd.DataFrame  # row per problem: kind, project, parcel, detail


def _events_until(events: pd.DataFrame, as_of: dt.date, include_undated: bool) -> pd.DataFrame:
    ev = events.copy()
    ev["date"] = pd.to_datetime(ev["date"], errors="coerce")
    limit = pd.Timestamp(as_of)
    dated = ev["date"].notna() & (ev["date"] <= limit)
    if include_undated:
        ev.loc[ev["date"].isna(), "date"] = limit
        dated |= ev["date"] == limit
    return ev.loc[dated]


def _last(ev: pd.DataFrame, status: str | None = None) -> pd.DataFrame:
    if status is not None:
        ev = ev[ev["status"] == status]
    ev = ev.sort_values(["project_id", "parcel_key", "date", "rank"], kind="stable")
    return ev.drop_duplicates(["project_id", "parcel_key"], keep="last").set_index(
        ["project_id", "parcel_key"])


def compute_progress(pairs: pd.DataFrame, projects: pd.DataFrame, records: pd.DataFrame,
                     events: pd.DataFrame, *, as_of: dt.date | None = None) -> Progress:
    """Progress per pair, project, ward and district as known on ``as_of`` (default: today,
    undated statuses included)."""
    include_undated = as_of is None
    as_of = as_of or dt.date.today()
    ev = _events_until(events, as_of, include_undated) if len(events) else events
    base = pairs[["project_id", "parcel_key", "ward_code", "overlap_m2"]].copy()
    base = base.set_index(["project_id", "parcel_key"])
    if len(ev):
        last = _last(ev)
        approved = _last(ev, Status.PLAN_APPROVED.value)
        paid = _last(ev, Status.PAID.value)
        cleared_ev = ev[ev["status"].isin(_CLEARED)].sort_values("date")
        cleared_first = cleared_ev.drop_duplicates(["project_id", "parcel_key"]).set_index(
            ["project_id", "parcel_key"])
        base["status"] = last["status"].reindex(base.index)
        base["status_date"] = last["date"].reindex(base.index)
        base["rank"] = last["rank"].reindex(base.index)
        base["approval_date"] = approved["date"].reindex(base.index)
        base["approved_vnd"] = approved["amount_vnd"].reindex(base.index)
        base["paid_date"] = paid["date"].reindex(base.index)
        base["paid_vnd"] = paid["amount_vnd"].reindex(base.index)
        base["cleared_date"] = cleared_first["date"].reindex(base.index)
    else:
        for col in ("status", "status_date", "rank", "approval_date", "approved_vnd", "paid_date",
                    "paid_vnd", "cleared_date"):
            base[col] = np.nan
    for col in ("status_date", "approval_date", "paid_date", "cleared_date"):
        base[col] = pd.to_datetime(base[col], errors="coerce")
    base["status"] = base["status"].astype(object).where(base["status"].notna(), NOT_STARTED)
    rec = records.drop_duplicates(["project_id", "parcel_key"], keep="last").set_index(
        ["project_id", "parcel_key"]) if len(records) else pd.DataFrame()
    base["households"] = (rec["households"].reindex(base.index) if len(rec) else np.nan)
    base["complaint"] = (rec["complaint"].reindex(base.index).fillna(False).astype(bool)
                         if len(rec) else False)
    base["handed_over"] = base["status"].isin(_CLEARED)
    base["plan_approved"] = base["rank"].fillna(-1) >= _APPROVED_RANK
    limit = pd.Timestamp(as_of)
    base["overdue_payment"] = (base["approval_date"].notna()
                               & (base["approval_date"] < limit - pd.Timedelta(days=PAYMENT_DAYS))
                               & base["paid_date"].isna())
    base["ahead_of_paperwork"] = base["handed_over"] & base["approval_date"].isna()
    year = as_of.year
    cleared_year = pd.to_datetime(base["cleared_date"]).dt.year
    base["recovered_this_year_m2"] = np.where(base["handed_over"] & (cleared_year == year),
                                              base["overlap_m2"], 0.0)
    base["recovered_last_year_m2"] = np.where(base["handed_over"] & (cleared_year == year - 1),
                                              base["overlap_m2"], 0.0)
    parcels = base.reset_index()
    by_project = _rollup(parcels, "project_id")
    proj = projects.drop(columns=[c for c in ("geometry",) if c in projects.columns]).copy()
    proj = proj.set_index("project_id")
    proj_out = proj.join(by_project, how="left")
    for col in FIGURES:
        proj_out[col] = proj_out[col].fillna(0)
    _ratios(proj_out)
    proj_out["completed"] = (proj_out["parcels_affected"] > 0) & (
        proj_out["parcels_handed_over"] == proj_out["parcels_affected"])
    if "capital_plan_vnd" in proj_out and "disbursed_vnd" in proj_out:
        with np.errstate(divide="ignore", invalid="ignore"):
            proj_out["disbursement_pct"] = np.where(proj_out["capital_plan_vnd"] > 0,
                                                    100 * proj_out["disbursed_vnd"]
                                                    / proj_out["capital_plan_vnd"], np.nan)
    wards = _rollup(parcels, "ward_code")
    wards["projects"] = parcels.groupby("ward_code")["project_id"].nunique()
    _ratios(wards)
    district = _district(proj_out, parcels)
    problems = _problems(parcels, proj_out)
    return Progress(as_of, parcels, proj_out.reset_index(), wards.reset_index(), district, problems)


def _rollup(parcels: pd.DataFrame, by: str) -> pd.DataFrame:
    g = parcels.groupby(by)
    out = pd.DataFrame({
        "parcels_affected": g.size(),
        "parcels_handed_over": g["handed_over"].sum(),
        "parcels_not_started": g["status"].apply(lambda s: int((s == NOT_STARTED).sum())),
        "area_affected_m2": g["overlap_m2"].sum(),
        "area_recovered_m2": parcels["overlap_m2"].where(parcels["handed_over"], 0).groupby(
            parcels[by]).sum(),
        "plans_total": g.size(),
        "plans_approved": g["plan_approved"].sum(),
        "households": g["households"].sum(min_count=0),
        "compensation_approved_vnd": g["approved_vnd"].sum(min_count=0),
        "compensation_paid_vnd": g["paid_vnd"].sum(min_count=0),
        "overdue_payments": g["overdue_payment"].sum(),
        "complaints": g["complaint"].sum(),
        "area_recovered_this_year_m2": g["recovered_this_year_m2"].sum(),
        "area_recovered_last_year_m2": g["recovered_last_year_m2"].sum(),
    })
    for col in ("parcels_affected", "parcels_handed_over", "parcels_not_started", "plans_total",
                "plans_approved", "households", "compensation_approved_vnd",
                "compensation_paid_vnd", "overdue_payments", "complaints"):
        out[col] = out[col].fillna(0).astype("int64")
    return out


def _ratios(frame: pd.DataFrame) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["pct_area_recovered"] = np.where(frame["area_affected_m2"] > 0, 100 *
                                               frame["area_recovered_m2"] / frame["area_affected_m2"], 0.0)
        frame["pct_plans_approved"] = np.where(frame["plans_total"] > 0, 100 *
                                               frame["plans_approved"] / frame["plans_total"], 0.0)
        frame["pct_paid"] = np.where(frame["compensation_approved_vnd"] > 0, 100 *
                                     frame["compensation_paid_vnd"] / frame["compensation_approved_vnd"],
                                     0.0)


def _district(projects: pd.DataFrame, parcels: pd.DataFrame) -> dict[str, object]:
    totals = {col: (int(projects[col].sum()) if not col.endswith("_m2")
                    else float(projects[col].sum())) for col in FIGURES}
    capital = projects.get("capital_source", pd.Series(dtype=object))
    start = projects.get("start_type", pd.Series(dtype=object))
    key = projects.get("key_project", pd.Series(False, index=projects.index)).fillna(False)

    def group(mask: pd.Series) -> dict[str, int]:
        return {"projects": int(mask.sum()),
                "carried_over": int((mask & (start == "CARRIED_OVER")).sum()),
                "new": int((mask & (start == "NEW")).sum()),
                "completed": int((mask & projects["completed"]).sum())}

    this_year, last_year = totals["area_recovered_this_year_m2"], totals["area_recovered_last_year_m2"]
    return {
        **totals,
        "projects_total": len(projects),
        "projects_completed": int(projects["completed"].sum()),
        "state_budget": group(capital == "STATE_BUDGET"),
        "non_budget": group(capital == "NON_BUDGET"),
        "key_projects": group(key.astype(bool)),
        "wards": int(parcels["ward_code"].nunique()),
        "recovered_ratio_this_vs_last_year": (this_year / last_year) if last_year > 0 else None,
    }


def _problems(parcels: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in parcels[parcels["ahead_of_paperwork"]].itertuples():
        rows.append(("ahead_of_paperwork", r.project_id, r.parcel_key,
                     f"{r.status} without a plan approval date"))
    for r in parcels[parcels["overdue_payment"]].itertuples():
        rows.append(("payment_overdue", r.project_id, r.parcel_key,
                     f"plan approved {pd.Timestamp(r.approval_date).date():%d/%m/%Y}, not paid "
                     f"within {PAYMENT_DAYS} days"))
    for pid, r in projects[projects["complaints"] > 0].iterrows():
        rows.append(("complaints", pid, None, f"{int(r['complaints'])} parcel(s) with complaints"))
    return pd.DataFrame(rows, columns=["kind", "project_id", "parcel_key", "detail"])
