"""Validate an upload (write nothing) and commit it, through the library's own ingest.

The report kept for an upload is the library's (``LayerReport.to_dict()`` or
``ClearanceIngestReport.to_dict()``) without server paths, plus, for layers, a preview of what
committing would change in the store (added, removed, changed keys; the wards a parcels file
replaces), computed the way :func:`gis.ingest.ingest_layer` does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from gis.api.admin.uploads import LAYER_KINDS, Upload, UploadOptions, Uploads
from gis.api.auth.security import User
from gis.api.deps import Context
from gis.errors import AuthError, GisError, UploadRefused
from gis.store import Store
from gis.store.query import LayerQuery
from gis.text import N_, Text

__all__ = ["HOW", "RULES", "SEVERITIES", "commit", "commit_pending", "log_rows", "prepare",
           "receive"]

#: rule → (vi, en), for the report page
RULES: dict[str, Text] = {
    "duplicate_key": N_("Duplicate key"),
    "parcel_number_zero": N_("Parcel number 0"),
    "missing_key": N_("Missing key"),
    "empty_geometry": N_("Empty geometry"),
    "invalid_geometry": N_("Invalid geometry, not repairable"),
    "invalid_geometry_repaired": N_("Invalid geometry repaired"),
    "non_polygon": N_("Not a polygon"),
    "geometry_collection": N_("Geometry collection"),
    "z_dropped": N_("Z/M coordinates dropped"),
    "area_mismatch": N_("Recorded vs computed area"),
    "area_recorded_zero": N_("Recorded area is zero"),
    "unknown_land_use": N_("Unknown land-use code"),
    "missing_land_use": N_("Missing land-use code"),
    "composite_land_use": N_("Composite land-use code"),
    "legacy_land_use": N_("Legacy code mapped to 2024"),
    "bad_amount": N_("Unreadable amount"),
    "bad_date": N_("Invalid date"),
    "bad_number": N_("Not a whole number"),
    "duplicate_row": N_("Duplicate row"),
    "handed_over_without_approval": N_("Handed over without a plan approval date"),
    "missing_status": N_("Missing status"),
    "unknown_status": N_("Unknown status"),
    "unknown_parcel": N_("Parcel not in the store"),
    "unknown_project": N_("Project not in the store"),
    "missing_column": N_("Missing column"),
}
SEVERITIES: dict[str, Text] = {
    "error": N_("Error – not loaded"),
    "warning": N_("Warning"),
    "note": N_("Note"),
}
HOW: dict[str, Text] = {
    "alias": N_("known alias"),
    "truncated alias": N_("DBF name cut to 10 characters"),
    "layer config": N_("layer configuration"),
}
UNMATCHED = ("unknown_parcel", "unknown_project")


def _spec(ctx: Context, kind: str):  # type: ignore[no-untyped-def]
    from gis.catalog import load_catalog

    folder = Path(ctx.ingest.catalog)
    if not folder.is_absolute():
        folder = ctx.root / folder
    return load_catalog(folder).for_kind(kind) if folder.is_dir() else None


def _layer_kwargs(ctx: Context, upload: Upload) -> dict[str, Any]:
    o = upload.opts
    return {"spec": _spec(ctx, upload.kind), "crs": o.crs, "layer": o.layer,
            "province": o.province, "engine": ctx.ingest.engine, "code_system": o.units,
            "defaults": {"ward_code": o.ward} if o.ward else None}


def _scrubbed(value: Any, uploads: Uploads, upload: Upload) -> Any:
    if isinstance(value, str):
        return uploads.scrub(value, upload)
    if isinstance(value, dict):
        return {k: _scrubbed(v, uploads, upload) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, uploads, upload) for v in value]
    return value


def _outside(store: Store, units: tuple[str, ...], what: str, found: set[str]) -> None:
    """Refuse (403) a file touching units outside the uploader's scope, naming them."""
    others = sorted(found - set(units))
    if others:
        from gis.units import unit_names

        names = unit_names(store)
        listed = ", ".join(f"{names.get(c, '?')} ({c})" for c in others)
        raise AuthError(f"{what} touches units outside yours ({', '.join(units)}): {listed}; "
                        "the province department (a user without units) loads it",
                        field="file")


def touched_units(store: Store, kind: str, valid: pd.DataFrame | None, *,
                  replace_all: bool = False) -> dict[str, set[str]] | None:
    """The 2025 units a file touches, by what touches them (None: the whole store, a layer of
    wards, units, projects or buildings, or parcels replacing everything): for parcels the
    units of its rows (by the units layer, else the conversion of the ward) and those of the
    stored parcels of its legacy wards, which a load replaces whole; for a clearance sheet the
    units of the stored parcels it names."""
    if kind not in ("parcels", "clearance") or replace_all:
        return None
    if valid is None or not len(valid):
        return {}
    parcels_units = store.has("parcels") and \
        store.layer_info("parcels").field("unit_code") is not None

    def stored(q: LayerQuery) -> set[str]:
        found = store.query("parcels", q)
        return {str(u) for u in found.values["unit_code"] if u} if len(found) else set()

    if kind == "parcels":
        from gis.units import with_units

        placed, _ = with_units(valid, units=store.read("units") if store.has("units") else None)
        out = {"the file": {str(u) for u in placed["unit_code"].dropna()}}
        wards = tuple(sorted({str(w) for w in valid["ward_code"].dropna()}))
        if wards and parcels_units:
            out["loading these wards again (a ward is replaced whole)"] = stored(LayerQuery(
                wards=wards, columns=("unit_code",), with_geometry=False))
        return out
    if "parcel_key" not in valid or not parcels_units:
        return {}
    keys = tuple(sorted({str(k) for k in valid["parcel_key"].dropna()}))
    return {"the sheet": stored(LayerQuery(keys=keys, columns=("unit_code",),
                                           with_geometry=False))}


def check_scope(store: Store, kind: str, units: tuple[str, ...] | None, *,
                touched: dict[str, set[str]] | None = None, replace_all: bool = False) -> None:
    """An upload by an officer of some units (``units``; None: the whole store, no check):
    parcels whose every row lies in their units, and whose legacy wards hold no stored parcel
    of another unit; clearance sheets whose parcels are all theirs (``touched``, from
    :func:`touched_units`). Whole-store layers (wards, units, projects, buildings) and
    ``replace_all`` are for the province department."""
    if units is None:
        return
    if kind not in ("parcels", "clearance") or replace_all:
        raise AuthError(f"a {kind} layer{' replacing everything' if replace_all else ''} is "
                        "loaded for the whole store, by the province department (a user "
                        f"without units); your units: {', '.join(units)}", field="kind",
                        value=kind)
    for what, found in (touched or {}).items():
        _outside(store, units, what, found)


def _units_of(touched: dict[str, set[str]] | None) -> list[str] | None:
    """The units an upload touches as recorded with it (None: the whole store)."""
    return None if touched is None else sorted(set().union(*touched.values()))


def prepare(ctx: Context, store: Store, uploads: Uploads, upload: Upload,
            units: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Validate the upload against the store as it is now, and against the uploader's
    ``units`` (:func:`check_scope`); write nothing to the store."""
    path = uploads.source(upload)
    check_scope(store, upload.kind, units, replace_all=bool(upload.opts.replace_all))
    if upload.kind == "clearance":
        from gis.clearance import prepare_clearance

        o = upload.opts
        creport = prepare_clearance(path, store=store, sheet=o.sheet, ward=o.ward,
                                    known_on=o.known_on_date() or dt.date.today(),
                                    units=o.units)
        touched = touched_units(store, upload.kind, creport.parse.records)
        check_scope(store, upload.kind, units, touched=touched)
        report: dict[str, Any] = creport.to_dict()
        report["unmatched"] = [i for i in report["issues"] if i.get("rule") in UNMATCHED]
        report["rows"] = {"total": creport.parse.rows_total, "ok": len(creport.parse.records),
                          "kept_out": len(creport.parse.rejected)}
    else:
        from gis.ingest import prepare_layer

        wards = store.read("wards") if upload.kind != "wards" and store.has("wards") else None
        lreport = prepare_layer(path, upload.kind, store_crs=store.crs(), wards=wards,
                                **_layer_kwargs(ctx, upload))
        v = lreport.validation
        touched = touched_units(store, upload.kind, v.valid,
                                replace_all=bool(upload.opts.replace_all))
        check_scope(store, upload.kind, units, touched=touched,
                    replace_all=bool(upload.opts.replace_all))
        report = lreport.to_dict()
        report["rows"] = {"total": v.rows_total, "ok": len(v.valid), "kept_out": len(v.quarantine)}
        report["quarantined"] = _quarantined(v.quarantine, upload.kind)
        report["preview"] = _preview(store, upload, v.valid, v.quarantine)
    report["kind"] = upload.kind
    report["units"] = _units_of(touched)
    report.pop("store", None)
    order = {"error": 0, "warning": 1, "note": 2}
    report["issues"] = sorted(report["issues"], key=lambda i: order.get(i.get("severity"), 3))
    report["counts"] = _counts(report["issues"])
    return _scrubbed(report, uploads, upload)


def _counts(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows per (rule, severity), errors first, then by count."""
    counts: dict[tuple[str, str], int] = {}
    for issue in issues:
        key = (str(issue.get("rule")), str(issue.get("severity")))
        counts[key] = counts.get(key, 0) + 1
    order = {"error": 0, "warning": 1, "note": 2}
    return [{"rule": r, "severity": s, "rows": n} for (r, s), n in
            sorted(counts.items(), key=lambda kv: (order.get(kv[0][1], 3), -kv[1], kv[0][0]))]


def _quarantined(frame: pd.DataFrame, kind: str, limit: int = 500) -> list[dict[str, Any]]:
    from gis.fields import LayerKind
    from gis.ingest import KEYS

    key = KEYS[LayerKind.parse(kind)]
    cols = [c for c in ("source_row", key, "reason") if c in frame.columns]
    rows = frame[cols].head(limit).astype(object)
    rows = rows.where(rows.notna(), None)
    return [{"row": r.get("source_row"), "key": r.get(key), "reason": r.get("reason")}
            for r in rows.to_dict("records")]


def _preview(store: Store, upload: Upload, valid: pd.DataFrame,
             quarantine: pd.DataFrame) -> dict[str, Any]:
    """What committing would change, as ``ingest_layer`` decides it."""
    from gis.core.diff import diff_layers
    from gis.core.replace import plan_replacement
    from gis.fields import LayerKind
    from gis.ingest import KEYS, SCOPES

    kind = LayerKind.parse(upload.kind)
    key = KEYS[kind]
    out: dict[str, Any] = {"replaced_wards": None, "kept_other_wards": 0}
    if not store.has(kind.value):
        out.update(added=len(valid), removed=0, changed=0, unchanged=0, stored_before=0)
        return out
    old = store.read(kind.value)
    out["stored_before"] = len(old)
    parcels = kind is LayerKind.PARCELS
    plan = plan_replacement(old, valid, quarantine, key=key, scope_column=SCOPES.get(kind),
                            replace_all=upload.opts.replace_all,
                            system_column="ward_system" if parcels else None,
                            system=(str(valid["ward_system"].dropna().iloc[0]) if parcels and
                                    "ward_system" in valid and valid["ward_system"].notna().any()
                                    else ("legacy" if parcels else None)))
    out["kept_other_wards"] = plan.kept_other
    out["replaced_wards"] = plan.scope
    out["kept_quarantined"] = plan.kept_quarantined
    out["set_aside_other_system"] = int(plan.conflicts.sum())
    diff = diff_layers(plan.old, valid.loc[~plan.conflicts], key)
    out.update(diff.as_dict(limit=20))
    return out


def commit(ctx: Context, store: Store, uploads: Uploads, upload: Upload, *,
           who: str) -> dict[str, Any]:
    """Run the ingest (the ingest log names ``who``); return what it did."""
    path = uploads.source(upload)
    o = upload.opts
    if upload.kind == "clearance":
        from gis.clearance import ingest_clearance, run_clearance

        creport = ingest_clearance(store, path, sheet=o.sheet, strict=o.strict, user=who,
                                   ward=o.ward, known_on=o.known_on_date(), units=o.units)
        summary = creport.parse.summary()
        result: dict[str, Any] = {
            "rows_total": summary["rows_total"], "rows_loaded": summary["rows_accepted"],
            "rows_quarantined": summary["rows_rejected"],
            "events_before": creport.events_before, "events_after": creport.events_after}
        if store.has("parcels") and store.has("projects"):
            run_clearance(store)  # the figures maps and the dashboard read
            result["progress_refreshed"] = True
        return result
    assert upload.kind in LAYER_KINDS
    from gis.ingest import ingest_layer

    report = ingest_layer(store, path, upload.kind, strict=o.strict, user=who,
                          replace_all=o.replace_all, **_layer_kwargs(ctx, upload))
    v = report.validation
    d = report.diff
    return {"rows_total": v.rows_total, "rows_loaded": len(v.valid),
            "rows_quarantined": len(v.quarantine), "added": len(d.added) if d else 0,
            "removed": len(d.removed) if d else 0, "changed": len(d.changed) if d else 0,
            "replaced_wards": report.scope, "kept_other_wards": report.kept_other_wards}


def receive(ctx: Context, store: Store, uploads: Uploads, source: BinaryIO,
            filename: str | None, kind: str, values: dict[str, Any], *, who: str,
            limit_bytes: int, units: tuple[str, ...] | None = None) -> Upload:
    """Keep a posted file as a pending upload with its options (``values``, as the form or
    ``gis ingest`` names them), validate it against the store and keep the report. A file the
    validation refuses is discarded and answered with :class:`UploadRefused` (the status the
    error has, a message naming no server path)."""
    from gis.api.errors import status_of

    options = UploadOptions.parse(kind, values)
    upload = uploads.receive(source, filename, kind, options, who=who, limit_bytes=limit_bytes)
    try:
        report = prepare(ctx, store, uploads, upload, units)
    except GisError as exc:
        message = uploads.scrub(str(exc), upload)
        uploads.discard(upload.id)
        raise UploadRefused(message, status=status_of(exc)) from None
    uploads.save_report(upload, report)
    upload.units = report.get("units")
    uploads.save(upload)
    return upload


def commit_pending(ctx: Context, store: Store, uploads: Uploads, upload_id: str, *,
                   who: str, units: tuple[str, ...] | None = None) -> Upload:
    """Commit a pending upload (held alone while it loads: a second commit or a discard
    meanwhile is refused) and record who committed it and when. An officer of some
    ``units`` has the file checked again against their units and the store as it is now."""
    with uploads.claim(upload_id) as upload:
        if units is not None:
            upload.units = prepare(ctx, store, uploads, upload, units).get("units")
        result = commit(ctx, store, uploads, upload, who=who)
        upload.state, upload.committed_by = "committed", who
        upload.committed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        upload.result = result
        uploads.save(upload)
        return upload


def log_rows(store: Store, uploads: Uploads, *, limit: int = 100,
             user: User | None = None) -> list[dict[str, Any]]:
    """The ingest log, newest first: who, when, what (the client's file name for uploads,
    else the file's own name: never a server path) and the counts. A ``user`` of some units
    sees their own lines and those whose units are all theirs
    (:func:`gis.api.scope.sees_record`)."""
    from gis.api.scope import sees_record

    log = store.ingest_log()
    if log.empty:
        return []
    known = uploads.by_source_path()
    out = []
    rows = log.iloc[::-1].astype(object).where(log.notna(), None).to_dict("records")
    for r in rows:
        if len(out) >= limit:
            break
        if not sees_record(user, r.get("user"), _split(r.get("units"))):
            continue
        source = str(r.get("source_path") or "")
        upload = known.get(source)
        out.append({
            "when": r.get("finished_at") or r.get("started_at"), "who": r.get("user"),
            "kind": r.get("kind"), "file": upload.filename if upload else Path(source).name,
            "layer": r.get("source_layer"), "upload": upload.id if upload else None,
            "units": _split(r.get("units")),
            "sha256": r.get("source_sha256"),
            **{k: _int(r.get(k)) for k in ("rows_total", "rows_loaded", "rows_quarantined",
                                           "added", "removed", "changed")}})
    return out


def _split(value: Any) -> list[str]:
    return [u for u in str(value or "").split(",") if u]


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
