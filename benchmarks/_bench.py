"""Shared pieces of the overlay benchmarks: each method in its own process, its own peak memory,
DuckDB spatial loaded offline from its PyPI package."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path


def peak_gb() -> float:
    """This process's own peak resident memory (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def duckdb_spatial():  # type: ignore[no-untyped-def]
    """A DuckDB connection with the spatial extension loaded from ``duckdb-extension-spatial``."""
    import duckdb
    import duckdb_extension_spatial

    ext = next(Path(duckdb_extension_spatial.__file__).parent.glob(
        "extensions/*/spatial.duckdb_extension"))
    con = duckdb.connect()
    con.execute(f"LOAD '{ext}'")
    return con


def run_methods(script: str, methods: tuple[str, ...], work: Path) -> dict[str, dict[str, float]]:
    """Run ``script --method M --work DIR`` for each method in a fresh process; its last stdout
    line is a JSON dict of figures. Failures are printed, not raised."""
    results = {}
    for method in methods:
        out = subprocess.run([sys.executable, script, "--method", method, "--work", str(work)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{method}: failed\n{out.stderr[-2000:]}")
            continue
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    return results
