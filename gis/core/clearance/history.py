"""Several sheets over time: typed tables, loads merged, the effective history resolved.

Every load of a sheet is kept (records and events carry ``load_id``, ``load_seq`` and the
sheet's ``known_on``); loading the same file and sheet for the same day again replaces that
load. What counts is resolved when reading, so the figures do not depend on the order in which
sheets were loaded (only on the days they describe):

- a milestone date (``date_approved``…) of a pair comes from the newest sheet that states it
  (corrections win; a sheet without that column changes nothing);
- an undated status is what was known on its sheet's day (all kept);
- an amount comes from the newest sheet that states one for that pair and step;
- a record field a sheet lacks (households, owner, amounts) is carried from the pair's earlier
  record.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["RECORD_TYPES", "EVENT_TYPES", "typed", "merge_load", "effective_events",
           "effective_records"]

_DATES = ["date_notified", "date_inventoried", "date_approved", "date_paid",
          "date_recovery_decided", "date_handed_over"]
RECORD_TYPES: dict[str, str] = {
    "sheet": "string", "sheet_row": "Int64", "project_id": "string", "ward_code": "string",
    "sheet_unit_code": "string",
    "map_sheet": "Int64", "parcel_no": "Int64", "parcel_key": "string", "owner_name": "string",
    "households": "Int64", "status": "string", "status_text": "string",
    "compensation_approved_vnd": "Int64", "compensation_paid_vnd": "Int64",
    "area_recovered_m2": "float64", **dict.fromkeys(_DATES, "date"), "complaint": "boolean",
    "note": "string", "known_on": "date", "problem": "string", "load_id": "string",
    "load_seq": "Int64",
}
EVENT_TYPES: dict[str, str] = {
    "project_id": "string", "parcel_key": "string", "status": "string", "rank": "Int64",
    "date": "date", "amount_vnd": "Int64", "sheet": "string", "sheet_row": "Int64",
    "dated_by": "string", "known_on": "date", "load_id": "string", "load_seq": "Int64",
}
_CARRIED = ["owner_name", "households", "compensation_approved_vnd", "compensation_paid_vnd",
            "area_recovered_m2"]


def typed(frame: pd.DataFrame, types: dict[str, str], *, for_store: bool = False
          ) -> pd.DataFrame:
    """The frame with exactly the columns of ``types``, each of its type (missing → empty).

    Whatever a store gave back (text for an all-empty column, floats for integers), amounts stay
    integers and dates stay dates. ``for_store`` writes dates as ISO text.
    """
    out = pd.DataFrame(index=frame.index)
    for column, kind in types.items():
        series = frame[column] if column in frame.columns else pd.Series(
            [None] * len(frame), index=frame.index, dtype=object)
        if kind == "string":
            values = series.astype(object).where(series.notna(), None)
            values = values.map(lambda v: None if v is None or (isinstance(v, str) and not v)
                                else str(v))
            out[column] = values.astype("string")
        elif kind == "Int64":
            text = series.astype(object).where(series.notna(), None).map(
                lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else v)
            out[column] = pd.to_numeric(text, errors="coerce").round().astype("Int64")
        elif kind == "float64":
            out[column] = pd.to_numeric(series.astype(object).where(series.notna(), None),
                                        errors="coerce").astype("float64")
        elif kind == "boolean":
            out[column] = series.map(lambda v: None if v is None or v is pd.NA or (
                isinstance(v, float) and v != v) or v == "" else (
                str(v).lower() in ("1", "true", "yes") if isinstance(v, str) else bool(v))
            ).astype("boolean")
        elif kind == "date":
            dates = pd.to_datetime(series.astype(object).where(series.notna(), None),
                                   errors="coerce")
            if for_store:
                out[column] = dates.dt.strftime("%Y-%m-%d").astype("string")
            else:
                out[column] = dates.dt.date.astype(object).where(dates.notna(), None)
        else:  # pragma: no cover - the tables above use only these
            raise ValueError(kind)
    return out


def merge_load(old: pd.DataFrame, new: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Old rows of other loads plus this load's rows (a load id replaces itself)."""
    old = typed(old, types)
    new = typed(new, types)
    if len(new) and len(old):
        old = old[~old["load_id"].isin(set(new["load_id"].dropna()))]
    parts = [f for f in (old, new) if len(f)]
    if not parts:
        return typed(pd.DataFrame(), types)
    return pd.concat(parts, ignore_index=True)


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(_k=pd.to_datetime(frame["known_on"], errors="coerce"),
                        _s=frame["load_seq"].fillna(0)).sort_values(["_k", "_s"], kind="stable")


def effective_events(events: pd.DataFrame) -> pd.DataFrame:
    """The history that counts: milestone dates from the newest sheet stating them, undated
    statuses as known on their day, amounts from the newest sheet stating one."""
    if events.empty:
        return typed(events, EVENT_TYPES)
    ev = _order(typed(events, EVENT_TYPES))
    snapshot = ev["dated_by"].fillna("known_on") == "known_on"
    field = ev["dated_by"].where(ev["dated_by"] != "inferred", "inferred:" + ev["status"])
    dated = ev[~snapshot].assign(_f=field[~snapshot])
    # sorted by (day, load): the last one per pair and field is the newest sheet stating it
    dated = dated.drop_duplicates(["project_id", "parcel_key", "_f"], keep="last").drop(
        columns="_f")
    out = pd.concat([dated, ev[snapshot]], ignore_index=True)
    out = _order(out.drop(columns=["_k", "_s"]))
    stated = out[out["amount_vnd"].notna()]
    if len(stated):
        latest = stated.drop_duplicates(["project_id", "parcel_key", "status"], keep="last") \
            .set_index(["project_id", "parcel_key", "status"])["amount_vnd"]
        idx = pd.MultiIndex.from_frame(out[["project_id", "parcel_key", "status"]])
        carried = pd.Series(latest.reindex(idx).to_numpy(), index=out.index)
        has_amount_step = out["status"].isin(["PLAN_APPROVED", "PAID"])
        out["amount_vnd"] = out["amount_vnd"].where(~has_amount_step, carried).astype("Int64")
    return out.drop(columns=["_k", "_s"]).reset_index(drop=True)


def effective_records(records: pd.DataFrame) -> pd.DataFrame:
    """Records with the fields a later sheet lacks carried from the pair's earlier record."""
    if records.empty:
        return typed(records, RECORD_TYPES)
    rec = _order(typed(records, RECORD_TYPES))
    filled = rec.groupby(["project_id", "parcel_key"], dropna=False)[_CARRIED].ffill()
    for column in _CARRIED:
        rec[column] = filled[column].astype(rec[column].dtype)
    return rec.drop(columns=["_k", "_s"]).reset_index(drop=True)
