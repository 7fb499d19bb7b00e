"""Clearance progress "as of" a date, per parcel, project, ward and district (DOMAIN.md §7.1).

Inputs are frames: overlap pairs (parcel × project, from :mod:`gis.core.overlay`), projects,
the latest sheet records (households, complaints) and the dated status events of every sheet
ever loaded. The status of a pair on day D is its latest event dated on or before D; figures are
therefore reproducible for any past date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.core.clearance.status import CLEARED, Status
from gis.core.clearance.wording import CAPITAL_UNKNOWN, Vocabulary, fold_words

__all__ = ["Progress", "compute_progress", "NOT_STARTED", "FIGURES"]

NOT_STARTED = "NOT_STARTED"
PAYMENT_DAYS = 30
# the sheet's recovered area vs the overlay's project part: beyond 1 m² and 5 % is a problem
AREA_TOLERANCE_M2, AREA_TOLERANCE_SHARE = 1.0, 0.05  # Land Law 2024 Art. 94 cl. 3: pay within 30 days of plan approval
FIGURES = ["parcels_affected", "parcels_handed_over", "parcels_not_started", "area_affected_m2",
           "area_recovered_m2", "plans_total", "plans_approved", "households",
           "compensation_approved_vnd", "compensation_paid_vnd", "overdue_payments",
           "complaints", "area_recovered_this_year_m2", "area_recovered_last_year_m2"]
_CLEARED = [s.value for s in CLEARED]
# per-pair working columns (the sheet's own figures, plan ids): used for problems, not reported
_INTERNAL = ["owner_sheet", "row_problem", "sheet_area_m2", "sheet_compensation_approved_vnd",
             "sheet_compensation_paid_vnd", "plan_id", "plan_done"]
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
    #: per 2025 commune-level unit and per province (when the pairs carry ``unit_code`` and
    #: ``province_code``); the legacy grouping is ``wards`` and ``district``
    units: pd.DataFrame = field(default_factory=pd.DataFrame)
    provinces: pd.DataFrame = field(default_factory=pd.DataFrame)


def _events_until(events: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    ev = events.copy()
    ev["date"] = pd.to_datetime(ev["date"], errors="coerce")
    return ev.loc[ev["date"].notna() & (ev["date"] <= pd.Timestamp(as_of))]


def _last(ev: pd.DataFrame, status: str | None = None) -> pd.DataFrame:
    """Per pair: the furthest step reached (the workflow only moves forward), or for one status
    its latest event."""
    if status is not None:
        ev = ev[ev["status"] == status].sort_values(["project_id", "parcel_key", "date"],
                                                    kind="stable")
    else:
        ev = ev.sort_values(["project_id", "parcel_key", "rank", "date"], kind="stable")
    return ev.drop_duplicates(["project_id", "parcel_key"], keep="last").set_index(
        ["project_id", "parcel_key"])


def compute_progress(pairs: pd.DataFrame, projects: pd.DataFrame, records: pd.DataFrame,
                     events: pd.DataFrame, *, as_of: dt.date | None = None,
                     parcels: pd.DataFrame | None = None,
                     vocabulary: Vocabulary | None = None) -> Progress:
    """Progress per pair, project, ward and district as known on ``as_of`` (default: today,
    undated statuses included).

    ``parcels`` (parcel_key, owner_name, is_public) and ``vocabulary`` (state owners) decide
    the plans (phương án): one per land user, not per parcel; see :func:`_plans`."""
    as_of = as_of or dt.date.today()
    ev = _events_until(events, as_of) if len(events) else events
    levels = [c for c in ("unit_code", "province_code") if c in pairs.columns]
    base = pairs[["project_id", "parcel_key", "ward_code", *levels, "overlap_m2"]].copy()
    geoms = (np.asarray(pairs.geometry.values, dtype=object)
             if isinstance(pairs, gpd.GeoDataFrame) and pairs.geometry.name in pairs else None)
    base = base.set_index(["project_id", "parcel_key"])
    if len(ev):
        last = _last(ev)
        approved = _last(ev, Status.PLAN_APPROVED.value)
        real_approval = _last(ev[ev["dated_by"] == "date_approved"], Status.PLAN_APPROVED.value) \
            if "dated_by" in ev else approved
        paid = _last(ev, Status.PAID.value)
        cleared_ev = ev[ev["status"].isin(_CLEARED)].sort_values("date")
        cleared_first = cleared_ev.drop_duplicates(["project_id", "parcel_key"]).set_index(
            ["project_id", "parcel_key"])
        base["status"] = last["status"].reindex(base.index)
        base["status_date"] = last["date"].reindex(base.index)
        base["rank"] = last["rank"].reindex(base.index)
        base["approval_date"] = approved["date"].reindex(base.index)
        base["approval_date_recorded"] = real_approval["date"].reindex(base.index)
        base["approved_vnd"] = approved["amount_vnd"].reindex(base.index)
        base["paid_date"] = paid["date"].reindex(base.index)
        base["paid_vnd"] = paid["amount_vnd"].reindex(base.index)
        base["cleared_date"] = cleared_first["date"].reindex(base.index)
    else:
        for col in ("status", "status_date", "rank", "approval_date", "approved_vnd", "paid_date",
                    "paid_vnd", "cleared_date", "approval_date_recorded"):
            base[col] = np.nan
    for col in ("status_date", "approval_date", "paid_date", "cleared_date",
                "approval_date_recorded"):
        base[col] = pd.to_datetime(base[col], errors="coerce")
    base["status"] = base["status"].astype(object).where(base["status"].notna(), NOT_STARTED)
    if len(records) and "known_on" in records:
        # households and complaints: the latest sheet known on the day; a pair first reported
        # later keeps its earliest sheet (a parcel's households do not appear from nowhere)
        known = pd.to_datetime(records["known_on"], errors="coerce")
        late = known.notna() & (known > pd.Timestamp(as_of))
        records = records.assign(_late=late, _k=known).sort_values(
            ["_late", "_k"], ascending=[False, True], kind="stable")
        records = _pick_records(records)
    rec = records.drop_duplicates(["project_id", "parcel_key"], keep="last").set_index(
        ["project_id", "parcel_key"]) if len(records) else pd.DataFrame()
    base["households"] = (rec["households"].reindex(base.index) if len(rec) else np.nan)
    base["owner_sheet"] = (rec["owner_name"].reindex(base.index).astype(object)
                           if len(rec) and "owner_name" in rec else None)
    base["row_problem"] = (rec["problem"].reindex(base.index).astype(object)
                           if len(rec) and "problem" in rec else None)
    base["sheet_area_m2"] = (pd.to_numeric(rec["area_recovered_m2"], errors="coerce").reindex(
        base.index) if len(rec) and "area_recovered_m2" in rec else np.nan)
    for column in ("compensation_approved_vnd", "compensation_paid_vnd"):
        base[f"sheet_{column}"] = (rec[column].reindex(base.index).astype("Float64")
                                   if len(rec) and column in rec else np.nan)
    base["complaint"] = (rec["complaint"].reindex(base.index).fillna(False).astype(bool)
                         if len(rec) else False)
    base["handed_over"] = base["status"].isin(_CLEARED)
    base["plan_approved"] = base["rank"].fillna(-1) >= _APPROVED_RANK
    limit = pd.Timestamp(as_of)
    base["overdue_payment"] = (base["approval_date"].notna()
                               & (base["approval_date"] < limit - pd.Timedelta(days=PAYMENT_DAYS))
                               & base["paid_date"].isna())
    base["ahead_of_paperwork"] = base["handed_over"] & base["approval_date_recorded"].isna()
    year = as_of.year
    cleared_year = pd.to_datetime(base["cleared_date"]).dt.year
    base["recovered_this_year_m2"] = np.where(base["handed_over"] & (cleared_year == year),
                                              base["overlap_m2"], 0.0)
    base["recovered_last_year_m2"] = np.where(base["handed_over"] & (cleared_year == year - 1),
                                              base["overlap_m2"], 0.0)
    base = base.reset_index()
    rules = _plans(base, parcels, vocabulary)
    # land the state manages has no plan, so no approval to be ahead of
    base["ahead_of_paperwork"] = base["ahead_of_paperwork"] & base["plan_id"].notna()
    parcels = base
    by_project = _rollup(parcels, "project_id")
    wards = _rollup(parcels, "ward_code")
    _distinct(wards, parcels, "ward_code", geoms)
    proj = projects.drop(columns=[c for c in ("geometry",) if c in projects.columns]).copy()
    proj = proj.set_index("project_id")
    proj_out = proj.join(by_project, how="left")
    for col in FIGURES:
        proj_out[col] = proj_out[col].fillna(0)
    proj_out["plans_rule"] = pd.Series(rules).reindex(proj_out.index).fillna("parcels")
    _ratios(proj_out)
    proj_out["completed"] = (proj_out["parcels_affected"] > 0) & (
        proj_out["parcels_handed_over"] == proj_out["parcels_affected"])
    if "capital_plan_vnd" in proj_out and "disbursed_vnd" in proj_out:
        with np.errstate(divide="ignore", invalid="ignore"):
            proj_out["disbursement_pct"] = np.where(proj_out["capital_plan_vnd"] > 0,
                                                    100 * proj_out["disbursed_vnd"]
                                                    / proj_out["capital_plan_vnd"], np.nan)
    wards["projects"] = parcels.groupby("ward_code")["project_id"].nunique()
    _ratios(wards)
    whole = _rollup(parcels.assign(_all="district"), "_all")
    _distinct(whole, parcels.assign(_all="district"), "_all", geoms)
    district = _district(proj_out, parcels, whole.iloc[0] if len(whole) else None)
    district["plans_rule"] = _rule_counts(rules)
    problems = _problems(parcels, proj_out)
    tables = {c: _level(parcels, c, geoms) for c in levels}
    # the pairs keep only what they had: the levels are in the pairs given
    parcels = parcels.drop(columns=[c for c in [*_INTERNAL, *levels] if c in parcels.columns])
    return Progress(as_of, parcels, proj_out.reset_index(), wards.reset_index(), district,
                    problems, units=tables.get("unit_code", pd.DataFrame()),
                    provinces=tables.get("province_code", pd.DataFrame()))


def _level(parcels: pd.DataFrame, by: str, geoms: np.ndarray | None) -> pd.DataFrame:
    """Figures per value of ``by`` (a unit, a province) as per ward: a parcel counts once."""
    keep = parcels[by].notna().to_numpy()
    known = parcels.loc[keep].reset_index(drop=True)
    table = _rollup(known, by)
    _distinct(table, known, by, None if geoms is None else geoms[keep])
    table["projects"] = known.groupby(by)["project_id"].nunique()
    _ratios(table)
    return table.reset_index()


def _plans(base: pd.DataFrame, parcels: pd.DataFrame | None,
           vocabulary: Vocabulary | None) -> dict[str, str]:
    """Plans (phương án) are per land user: ``plan_id`` per pair (None for land the state
    manages: public parcels, roads, canals, a commune People's Committee as the user) and
    ``plan_done`` when all the user's parcels in the project are at or past plan approval.

    Per project: when its sheet rows name owners, one plan per distinct owner (a pair without a
    name is its own plan); else one plan per parcel with a private user. Returns the rule used
    per project ("owners" or "parcels")."""
    info = (parcels.drop_duplicates("parcel_key").set_index("parcel_key")
            if parcels is not None and len(parcels) and "parcel_key" in parcels else None)
    keys = base["parcel_key"]
    public = pd.Series(False, index=base.index)
    layer_owner = pd.Series(None, index=base.index, dtype=object)
    if info is not None:
        if "is_public" in info:
            public = keys.map(info["is_public"]).fillna(False).astype(bool)
        if "owner_name" in info:
            layer_owner = keys.map(info["owner_name"]).astype(object)
    sheet_owner = base["owner_sheet"] if "owner_sheet" in base else pd.Series(
        None, index=base.index, dtype=object)
    sheet_owner = sheet_owner.astype(object).where(sheet_owner.notna(), None)
    owner = sheet_owner.where(sheet_owner.notna(), layer_owner.where(layer_owner.notna(), None))
    if vocabulary is not None:
        state = owner.map(lambda o: vocabulary.is_state_owner(o) if isinstance(o, str) else False)
        public = public | state.astype(bool)
    named = sheet_owner.notna().groupby(base["project_id"]).any()
    rules = {str(k): ("owners" if v else "parcels") for k, v in named.items()}
    by_owner = base["project_id"].map(lambda p: rules.get(str(p)) == "owners")
    owner_key = owner.map(lambda o: " ".join(fold_words(o)) if isinstance(o, str) else None)
    plan = np.where(by_owner & owner_key.notna(),
                    base["project_id"].astype(str) + "|owner|" + owner_key.fillna(""),
                    base["project_id"].astype(str) + "|parcel|" + keys.astype(str))
    base["plan_id"] = pd.Series(plan, index=base.index, dtype=object).where(~public, None)
    done = base["plan_approved"].groupby(base["plan_id"]).transform("all")
    base["plan_done"] = done.reindex(base.index).fillna(False).astype(bool) & base[
        "plan_id"].notna()
    return rules


def _rule_counts(rules: dict[str, str]) -> dict[str, int]:
    """How many projects count plans per owner and how many per parcel (the report words it)."""
    owners = sum(1 for r in rules.values() if r == "owners")
    return {"owners": owners, "parcels": len(rules) - owners}


def _pick_records(records: pd.DataFrame) -> pd.DataFrame:
    """Per pair: the latest record known on the day, else the earliest one known later."""
    on_time = records[~records["_late"]].sort_values("_k", kind="stable")
    later = records[records["_late"]].sort_values("_k", ascending=False, kind="stable")
    # concatenated so that drop_duplicates(keep="last") picks on-time first, then earliest later
    return pd.concat([later, on_time], ignore_index=True)


def _rollup(parcels: pd.DataFrame, by: str) -> pd.DataFrame:
    g = parcels.groupby(by)
    out = pd.DataFrame({
        "parcels_affected": g.size(),
        "parcels_handed_over": g["handed_over"].sum(),
        "parcels_not_started": g["status"].apply(lambda s: int((s == NOT_STARTED).sum())),
        "area_affected_m2": g["overlap_m2"].sum(),
        "area_recovered_m2": parcels["overlap_m2"].where(parcels["handed_over"], 0).groupby(
            parcels[by]).sum(),
        "plans_total": g["plan_id"].nunique(),
        "plans_approved": parcels["plan_id"].where(parcels["plan_done"]).groupby(
            parcels[by]).nunique().reindex(g.size().index).fillna(0),
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


def _distinct(table: pd.DataFrame, parcels: pd.DataFrame, by: str,
              geoms: np.ndarray | None) -> None:
    """Above the project level a parcel counts once: distinct parcels, households once per
    parcel, and the area as the union of its project parts (projects may overlap)."""
    if parcels.empty:
        return
    g = parcels.groupby(by)
    table["parcels_affected"] = g["parcel_key"].nunique()
    table["parcels_handed_over"] = parcels[parcels["handed_over"]].groupby(by)["parcel_key"] \
        .nunique().reindex(table.index).fillna(0).astype("int64")
    table["parcels_not_started"] = parcels[parcels["status"] == NOT_STARTED].groupby(by)[
        "parcel_key"].nunique().reindex(table.index).fillna(0).astype("int64")
    per_parcel = parcels.groupby([by, "parcel_key"])["households"].max()
    table["households"] = per_parcel.groupby(level=0).sum().reindex(table.index).fillna(0) \
        .astype("int64")
    for column, mask in (("area_affected_m2", np.ones(len(parcels), dtype=bool)),
                         ("area_recovered_m2", parcels["handed_over"].to_numpy(dtype=bool))):
        table[column] = _union_area(parcels, mask, by, geoms).reindex(table.index).fillna(0.0)


def _union_area(parcels: pd.DataFrame, mask: np.ndarray, by: str,
                geoms: np.ndarray | None) -> pd.Series:
    sub = parcels.loc[mask]
    if sub.empty:
        return pd.Series(dtype=float)
    dup = sub.duplicated("parcel_key", keep=False).to_numpy()
    area = sub["overlap_m2"].to_numpy(dtype=float).copy()
    if dup.any():
        import shapely

        rows = np.flatnonzero(mask)[dup]
        for key, idx in pd.Series(rows, index=sub.loc[dup, "parcel_key"].to_numpy()).groupby(level=0):
            positions = np.flatnonzero(sub["parcel_key"].to_numpy() == key)
            if geoms is not None:
                union = shapely.union_all(geoms[idx.to_numpy()]).area
            else:
                union = float(sub["overlap_m2"].to_numpy()[positions].max())
            area[positions] = 0.0
            area[positions[0]] = union
    return pd.Series(area, index=sub.index).groupby(sub[by]).sum()


def _district(projects: pd.DataFrame, parcels: pd.DataFrame,
              whole: pd.Series | None = None) -> dict[str, object]:
    totals = {col: (int(projects[col].sum()) if not col.endswith("_m2")
                    else float(projects[col].sum())) for col in FIGURES}
    if whole is not None:
        for col in ("parcels_affected", "parcels_handed_over", "parcels_not_started", "households"):
            totals[col] = int(whole[col])
        for col in ("area_affected_m2", "area_recovered_m2"):
            totals[col] = float(whole[col])
    nothing = pd.Series(None, index=projects.index, dtype=object)
    capital = projects.get("capital_source", nothing)
    start = projects.get("start_type", nothing)
    key = projects.get("key_project", pd.Series(False, index=projects.index)).fillna(False)

    def group(mask: pd.Series) -> dict[str, object]:
        return {"projects": int(mask.sum()),
                "carried_over": int((mask & (start == "CARRIED_OVER")).sum()),
                "new": int((mask & (start == "NEW")).sum()),
                "completed": int((mask & projects["completed"]).sum()),
                "area_affected_m2": float(projects.loc[mask, "area_affected_m2"].sum()),
                "area_recovered_m2": float(projects.loc[mask, "area_recovered_m2"].sum()),
                "plans_total": int(projects.loc[mask, "plans_total"].sum()),
                "plans_approved": int(projects.loc[mask, "plans_approved"].sum()),
                "compensation_approved_vnd": int(projects.loc[mask, "compensation_approved_vnd"].sum()),
                "compensation_paid_vnd": int(projects.loc[mask, "compensation_paid_vnd"].sum())}

    this_year, last_year = totals["area_recovered_this_year_m2"], totals["area_recovered_last_year_m2"]
    return {
        **totals,
        "projects_total": len(projects),
        "projects_completed": int(projects["completed"].sum()),
        "state_budget": group(capital == "STATE_BUDGET"),
        "non_budget": group(capital == "NON_BUDGET"),
        "unknown_capital": group(capital.isna() | (capital == CAPITAL_UNKNOWN)),
        "key_projects": group(key.astype(bool)),
        "carried_over": group(start == "CARRIED_OVER"),
        "new": group(start == "NEW"),
        "wards": int(parcels["ward_code"].nunique()),
        "recovered_ratio_this_vs_last_year": (this_year / last_year) if last_year > 0 else None,
    }


def _problems(parcels: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    for r in parcels[parcels["ahead_of_paperwork"]].itertuples():
        rows.append(("ahead_of_paperwork", r.project_id, r.parcel_key,
                     f"{r.status} without a plan approval date", None, None))
    for r in parcels[parcels["overdue_payment"]].itertuples():
        rows.append(("payment_overdue", r.project_id, r.parcel_key,
                     f"plan approved {pd.Timestamp(r.approval_date).date():%d/%m/%Y}, not paid "
                     f"within {PAYMENT_DAYS} days", None, None))
    if "row_problem" in parcels:
        flagged = parcels[parcels["row_problem"].notna()]
        for r in flagged.itertuples():
            kinds = str(r.row_problem).split(",")
            if "status_disagrees_with_dates" in kinds:
                rows.append(("status_disagrees_with_dates", r.project_id, r.parcel_key,
                             f"the sheet states {r.status}; later milestone dates on its row "
                             "were not used", None, None))
    if "sheet_area_m2" in parcels:
        stated = pd.to_numeric(parcels["sheet_area_m2"], errors="coerce")
        mapped = parcels["overlap_m2"].astype(float)
        off = stated.notna() & ((stated - mapped).abs() > np.maximum(
            AREA_TOLERANCE_M2, AREA_TOLERANCE_SHARE * mapped))
        for i in np.flatnonzero(off.to_numpy()):
            r = parcels.iloc[i]
            rows.append(("area_differs", r["project_id"], r["parcel_key"],
                         f"the sheet's recovered area {float(stated.iloc[i]):,.1f} m² differs from "
                         f"the project part of the parcel on the map {float(mapped.iloc[i]):,.1f} m²",
                         None, None))
    # money never disappears: an amount on a sheet that is not in a total is listed here
    # (before its step per the sheet itself, or past the step with nothing counted); an amount
    # whose step is dated after the as-of day is not due yet, so not a problem
    flags = parcels["row_problem"].astype(object).fillna("").astype(str) \
        if "row_problem" in parcels else pd.Series("", index=parcels.index)
    rank = pd.to_numeric(parcels["rank"], errors="coerce").fillna(-1)
    for column, counted, label, flag, step in (
            ("sheet_compensation_approved_vnd", "approved_vnd", "approved",
             "approved_amount_before_approval", Status.PLAN_APPROVED),
            ("sheet_compensation_paid_vnd", "paid_vnd", "paid", "paid_amount_before_payment",
             Status.PAID)):
        if column not in parcels:
            continue
        stated = pd.to_numeric(parcels[column], errors="coerce")
        got = pd.to_numeric(parcels[counted], errors="coerce")
        missing = stated.notna() & (flags.str.contains(flag)
                                    | ((rank >= step.rank) & got.isna()))
        for i in np.flatnonzero(missing.to_numpy()):
            r = parcels.iloc[i]
            amount = int(stated.iloc[i])
            rows.append(("amount_not_counted", r["project_id"], r["parcel_key"],
                         f"the sheet's {label} amount {amount:,} đồng is not in the {label} total"
                         f" (status {r['status']}"
                         + (f", counted {int(got.iloc[i]):,}" if pd.notna(got.iloc[i]) else "")
                         + ")",
                         amount if label == "approved" else None,
                         amount if label == "paid" else None))
    for pid, r in projects[projects["complaints"] > 0].iterrows():
        rows.append(("complaints", pid, None, f"{int(r['complaints'])} parcel(s) with complaints",
                     None, None))
    if "capital_source" in projects:
        for pid, r in projects[projects["capital_source"].isna()
                               | (projects["capital_source"] == CAPITAL_UNKNOWN)].iterrows():
            text = r.get("capital_source_text")
            rows.append(("capital_source_unknown", pid, None,
                         f"capital source {text!s} is neither budget nor non-budget; add it to "
                         "layers/sheets/vocabulary.yaml" if isinstance(text, str) and text else
                         "no capital source", None, None))
    out = pd.DataFrame(rows, columns=["kind", "project_id", "parcel_key", "detail",
                                      "approved_vnd", "paid_vnd"])
    for column in ("approved_vnd", "paid_vnd"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    return out
