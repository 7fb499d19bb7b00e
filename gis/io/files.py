"""Small file writers used by every report: atomic (temporary name, then rename)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from gis.io.tables_out import csv_text

__all__ = ["atomic_write_text", "atomic_write_csv", "write_report"]


def atomic_write_text(path: str | os.PathLike[str], text: str, *, bom: bool = False) -> Path:
    """Write ``text`` as UTF-8 (with a BOM for Excel when ``bom``) without leaving a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    os.replace(tmp, path)
    return path


def write_report(path: str | os.PathLike[str], data: dict[str, object],
                 issues: pd.DataFrame) -> Path:
    """A validation report: ``.csv`` writes one line per issue, anything else the whole JSON."""
    if Path(path).suffix.lower() == ".csv":
        return atomic_write_text(path, csv_text(issues), bom=True)
    return atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1, default=str))


def atomic_write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """A table as CSV, UTF-8 with a BOM so that Excel shows Vietnamese text right; text that a
    spreadsheet would run as a formula gets a leading ``'`` (:mod:`gis.io.tables_out`)."""
    return atomic_write_text(path, csv_text(frame), bom=True)
