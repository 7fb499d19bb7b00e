"""Benchmark: the batch commands in one process against the Dask engine, and a memory limit.

Run: ``python benchmarks/dask_bench.py --parcels 1000000`` (``--parcels 1000000,3000000`` for
both sizes; ``--work DIR`` keeps the generated stores for the next run). For each size a sample
district (:func:`gis.sample.generate_district`, as ``gis sample`` makes it; above 1M parcels
the generator is called directly with its 1M cap raised, the command stops at 1M) is ingested into a GeoPackage store
with ``gis ingest`` (wards, parcels, projects, buildings, the clearance sheet). Then, each in a
fresh process:

- ``gis clearance report --as-of 2024-12-31 --format json`` with ``--engine single`` (the
  baseline) and ``--engine dask`` (a ``LocalCluster`` of 2 single-threaded workers);
- ``gis violations detect`` the same way, each on its own copy of the store.

Reported: wall time of the command (cluster start included), the driver's peak RSS (its own
``VmHWM``) and the largest peak RSS of its child processes (the Dask nannies and workers:
``getrusage(RUSAGE_CHILDREN)``), and whether both engines wrote the same report and the same
cases. Then detection again (the single engine reads both layers whole; the clearance figures
read only the parcels meeting a project boundary) with ``RLIMIT_AS`` (address space) set to
``--limit-gb`` in the process that runs the command, which every process it starts (the Dask
workers) inherits, and ``MALLOC_ARENA_MAX=2`` (the limit counts address space, and glibc
reserves 64 MB of it per thread arena): the single engine must fail with an out-of-memory
error, the Dask engine must finish under the same limit per process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _bench import peak_gb  # noqa: E402

AS_OF = "2024-12-31"


def _env(store: Path) -> dict[str, str]:
    return {**os.environ, "GIS_STORE": str(store), "GIS_CATALOG": str(ROOT / "layers"),
            "GIS_DATA_DIR": str(store.parent), "PYTHONPATH": str(ROOT),
            }


def make_store(n: int, work: Path) -> Path:
    """The store of an ``n``-parcel sample district (made once per ``work`` folder)."""
    store = work / f"store-{n}" / "store.gpkg"
    if store.exists():
        print(f"{n:,} parcels: reusing {store}")
        return store
    src = work / f"src-{n}"
    t = time.perf_counter()
    # ``gis sample`` stops at 1M parcels; the generator itself scales (wards, sheets, keys)
    subprocess.run([sys.executable, "-c", "import sys; import gis.sample.generate as g; "
                    "g.MAX_PARCELS = max(g.MAX_PARCELS, int(sys.argv[1])); "
                    "from gis.sample import write_sample; "
                    "write_sample(g.generate_district(int(sys.argv[1]), seed=5), sys.argv[2])",
                    str(n), str(src)], check=True, env=_env(store))
    made = time.perf_counter() - t
    store.parent.mkdir(parents=True, exist_ok=True)
    for args in (["wards", src / "wards.gpkg"], ["parcels", src / "parcels.shp"],
                 ["projects", src / "projects.shp"], ["buildings", src / "buildings.gpkg"],
                 ["clearance", src / "clearance.xlsx", "--known-on", "31/12/2024"]):
        subprocess.run([sys.executable, "-m", "gis.cli", "ingest", *map(str, args)], check=True,
                       env=_env(store), stdout=subprocess.DEVNULL)
    shutil.rmtree(src)
    print(f"{n:,} parcels: sample generated in {made:.0f} s, ingested in "
          f"{time.perf_counter() - t - made:.0f} s ({store.stat().st_size / 1e9:.2f} GB store)")
    return store


def run_command(task: str, engine: str, store: Path, out: Path, limit_gb: float | None
                ) -> dict[str, object]:
    """In this (fresh) process: one command, its time and memory."""
    if limit_gb:
        size = int(limit_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    from gis.cli import cli

    args = (["clearance", "report", "--as-of", AS_OF, "--format", "json", "--out", str(out)]
            if task == "report" else ["violations", "detect"])
    t = time.perf_counter()
    try:
        cli.main([*args, "--engine", engine], standalone_mode=False)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    seconds = time.perf_counter() - t
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    return {"exit": code, "seconds": seconds, "driver_gb": peak_gb(), "workers_gb": children}


def _child(task: str, engine: str, store: Path, out: Path, limit_gb: float | None = None
           ) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--run", task, "--engine", engine, "--store", str(store),
           "--out", str(out)] + (["--limit-gb", str(limit_gb)] if limit_gb else [])
    env = _env(store)
    if limit_gb:
        # the limit counts address space: glibc reserves 64 MB of it for each thread's malloc
        # arena, which a Dask driver's threads exhaust long before memory (same for both)
        env["MALLOC_ARENA_MAX"] = "2"
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, object] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"exit": done.returncode, "seconds": float("nan"), "driver_gb": float("nan"),
                  "workers_gb": float("nan")}
    text = (done.stderr + "\n" + "\n".join(lines[:-1])).splitlines()
    messages = [ln.strip() for ln in text if ln.startswith(("Error:", "Unexpected error"))] or \
        [ln.strip() for ln in text if "Error" in ln]
    result["message"] = messages[-1] if messages else ""
    return result


def _cases(store: Path) -> list[str]:
    from gis.store import open_store

    return sorted(open_store(store).read_cases(columns=["fingerprint"], geometry=False)
                  ["fingerprint"])


def bench(n: int, work: Path, limit_gb: float) -> None:
    store = make_store(n, work)
    runs = work / f"runs-{n}"
    runs.mkdir(exist_ok=True)
    print(f"\n{n:,} parcels — wall time, driver peak RSS, largest worker peak RSS "
          "(2 workers; ratios against the single engine in this run)")
    for task in ("report", "detect"):
        results, outputs = {}, {}
        for engine in ("single", "dask"):
            target = store
            if task == "detect":  # detection adds cases: each engine on its own copy
                target = runs / engine / "store.gpkg"
                target.parent.mkdir(exist_ok=True)
                shutil.copyfile(store, target)
            out = runs / f"{task}-{engine}.json"
            results[engine] = r = _child(task, engine, target, out)
            outputs[engine] = (json.loads(out.read_text(encoding="utf-8")) if task == "report"
                               else _cases(target)) if r["exit"] == 0 else None
        base = results["single"]
        same = outputs["single"] is not None and outputs["single"] == outputs["dask"]
        for engine, r in results.items():
            ratio = "" if engine == "single" else (
                f"  {float(r['seconds']) / float(base['seconds']):.2f}× the time, driver "
                f"{float(r['driver_gb']) / float(base['driver_gb']):.2f}× the memory")
            print(f"  {task:6s} {engine:6s} {float(r['seconds']):7.1f} s  driver "
                  f"{float(r['driver_gb']):5.2f} GB  workers {float(r['workers_gb']):5.2f} GB"
                  f"{ratio}" + (f"  exit {r['exit']}: {r['message']}" if r["exit"] else ""))
        print(f"  {task}: both engines give {'the same' if same else 'DIFFERENT'} "
              + ("report" if task == "report" else f"cases ({len(outputs['single'] or [])})"))
    print(f"\n  violations detect with RLIMIT_AS = {limit_gb:g} GB per process:")
    for engine in ("single", "dask"):
        target = runs / f"limited-{engine}" / "store.gpkg"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(store, target)
        r = _child("detect", engine, target, runs / f"limited-{engine}.json", limit_gb)
        verdict = "finished" if r["exit"] == 0 else f"FAILED (exit {r['exit']})"
        print(f"  {engine:6s} {verdict}  {float(r['seconds']):7.1f} s  driver "
              f"{float(r['driver_gb']):5.2f} GB  workers {float(r['workers_gb']):5.2f} GB"
              + (f"\n         {r['message']}" if r["message"] else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels", default="1000000",
                        help="comma-separated sizes (3000000 takes about 10 minutes more)")
    parser.add_argument("--work", type=Path, help="keep the generated stores here")
    parser.add_argument("--limit-gb", type=float, default=None,
                        help="address-space limit per process for the memory demonstration "
                        "(default 2 GB up to 1M parcels, 4 GB above)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_command(args.run, args.engine, args.store, args.out,
                                     args.limit_gb)))
        return
    sizes = [int(s) for s in args.parcels.split(",")]
    with tempfile.TemporaryDirectory(prefix="gis-dask-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            bench(n, work, args.limit_gb or (2.0 if n <= 1_000_000 else 4.0))


if __name__ == "__main__":
    main()
