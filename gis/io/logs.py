"""The error log under the data folder: unexpected failures (with their traceback) and Python
warnings, kept for whoever maintains the service instead of shown to the officer.

Entries are appended to ``<data_dir>/logs/errors.log``; each unexpected failure is written under
a short id (8 hex characters) that the one-line message on screen repeats, so the officer can
read the id over the phone and the maintainer find the traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["error_log_path", "log_error", "log_warning", "warnings_to_log"]


def error_log_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the error log of a data folder lives."""
    return Path(data_dir) / "logs" / "errors.log"


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def log_error(path: Path, exc: BaseException, *, doing: str, argv: Sequence[str] = ()) -> str:
    """Append ``exc`` with its traceback to the log at ``path``; returns the entry's short id."""
    error_id = secrets.token_hex(4)
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    _append(path, f"=== {error_id} {_now()} ERROR while running: {doing}\n"
                  f"command line: {' '.join(argv)}\n{trace}\n")
    return error_id


def log_warning(path: Path, message: Warning | str, category: type[Warning], filename: str,
                lineno: int) -> None:
    """Append one Python warning to the log at ``path``."""
    _append(path, f"--- {_now()} WARNING {category.__name__} ({filename}:{lineno}): "
                  f"{message}\n")


@contextlib.contextmanager
def warnings_to_log(path: Path) -> Iterator[None]:
    """Within the block, Python warnings go to the log at ``path`` instead of stderr (if the
    log cannot be written they are dropped: an officer never sees them)."""
    with warnings.catch_warnings():
        def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
            with contextlib.suppress(OSError):
                log_warning(path, message, category, filename, lineno)

        warnings.showwarning = show
        yield
