"""Reports drawn on several threads at once give what they give one at a time: matplotlib's object
API only (no pyplot anywhere in gis/, never loaded by a report, no lock, no rcParams changed)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.api.conftest import sample_store  # noqa: F401  (the sample district, built once)
from tests.conftest import ROOT

GIS = ROOT / "gis"


def _matplotlib_globals(source: str) -> list[str]:
    """What in ``source`` reaches matplotlib's process-wide state: pyplot imports,
    ``matplotlib.use``, ``rc_context``/``rc``/``rcdefaults`` calls and rcParams changes."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("matplotlib.pyplot")
                      or a.name == "pylab"]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith("matplotlib.pyplot") or module == "pylab":
                found.append(module)
            found += [f"{module}.{a.name}" for a in node.names
                      if module == "matplotlib" and a.name in ("pyplot", "pylab", "rc_context",
                                                               "rc", "use", "rcdefaults")]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("rc_context", "rcdefaults") or (
                    isinstance(node.func.value, ast.Name) and node.func.value.id in
                    ("matplotlib", "mpl") and node.func.attr in ("use", "rc")):
                found.append(node.func.attr)
            if node.func.attr in ("update", "__setitem__", "setdefault") and \
                    "rcParams" in ast.unparse(node.func.value):
                found.append("rcParams." + node.func.attr)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += ["rcParams[…] =" for t in targets
                      if isinstance(t, ast.Subscript) and "rcParams" in ast.unparse(t.value)]
    return found


def test_the_scan_sees_each_way_of_reaching_global_state():
    for snippet in ("import matplotlib.pyplot as plt", "from matplotlib import pyplot",
                    "from matplotlib.pyplot import subplots", "import matplotlib\nmatplotlib.use('Agg')",
                    "import matplotlib\nwith matplotlib.rc_context({}):\n    pass",
                    "import matplotlib as mpl\nmpl.rcParams['pdf.fonttype'] = 42",
                    "from matplotlib import rcParams\nrcParams.update({})"):
        assert _matplotlib_globals(snippet), snippet
    assert not _matplotlib_globals("from matplotlib.figure import Figure\n"
                                   "from matplotlib import rcParams\nx = rcParams['font.size']")


def test_gis_never_imports_pyplot_nor_changes_matplotlib_globals():
    found = {p.relative_to(ROOT).as_posix(): hits for p in sorted(GIS.rglob("*.py"))
             if (hits := _matplotlib_globals(p.read_text(encoding="utf-8")))}
    assert not found, found
    assert "PLOT_LOCK" not in "".join(p.read_text(encoding="utf-8") for p in GIS.rglob("*.py"))


_PROBE = """
import sys
from pathlib import Path
from gis.store import open_store
from gis.api.cases.service import dossier_pdf
from gis.api.exports.dashboard import chart_png
from gis.api.extract.routes import parcel_extract
from gis.clearance import run_clearance
from gis.report.extract import extract_pdf
from gis.violations import list_cases

store = open_store(sys.argv[1])
cases = list_cases(store)
assert dossier_pdf(store, str(cases["case_id"].iloc[0])).startswith(b"%PDF")
key = str(cases["parcel_keys"].iloc[0]).split(",")[0]
assert extract_pdf(parcel_extract(store, key, neighbours_within=40), scale=500).startswith(b"%PDF")
assert len(chart_png("clearance", progress=run_clearance(store, write_back=False).progress)) == 2
assert chart_png("violations", cases=cases).startswith(b"\\x89PNG")
loaded = sorted(m for m in sys.modules if m.startswith(("matplotlib.pyplot", "pylab")))
print("pyplot loaded:", loaded)
assert not loaded
"""


def test_drawing_every_report_never_loads_pyplot(sample_store):  # noqa: F811
    """Not even through pandas' or geopandas' ``.plot`` (they import pyplot)."""
    res = subprocess.run([sys.executable, "-c", _PROBE, str(sample_store)], capture_output=True,
                         text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]


@pytest.fixture(scope="module")
def jobs(sample_store):  # type: ignore[no-untyped-def]  # noqa: F811
    """Eight different reports, their inputs read once: three extracts, three dossiers, the two
    clearance charts and the violations chart."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from gis.api.cases.service import nearby_parcels
    from gis.api.extract.routes import _find, parcel_extract
    from gis.clearance import run_clearance
    from gis.report.charts import clearance_charts
    from gis.report.dossier import dossier_pdf
    from gis.report.extract import extent_for, extract_pdf
    from gis.report.violations import violations_chart
    from gis.store import open_store
    from gis.violations import attachments_dir, case_attachments, case_detail, list_cases

    store = open_store(sample_store)
    now = dt.datetime(2026, 5, 4, 10, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    cases = list_cases(store)
    keys = [str(cases["parcel_keys"].iloc[0]).split(",")[0]]
    keys += list(store.read("parcels", columns=["parcel_key"])["parcel_key"].iloc[[5, 700]])
    out = {}
    for key in keys:
        scale, half = extent_for(_find(store, key).geometry.iloc[0])
        ex = parcel_extract(store, key, neighbours_within=half)
        out[f"extract {key}"] = (key, lambda ex=ex, scale=scale: extract_pdf(
            ex, scale=scale, printed_by="Cán bộ A", now=now))
    for case_id in cases["case_id"].iloc[[0, 3, 6]].astype(str):
        case, history = case_detail(store, case_id)
        args = (case, nearby_parcels(store, case["geometry"], limit=10_000), history,
                case_attachments(store, case_id), Path(attachments_dir(store)))
        out[f"dossier {case_id}"] = (case_id, lambda args=args: dossier_pdf(*args))
    progress = run_clearance(store, write_back=False).progress
    out["clearance charts"] = (None, lambda: b"".join(clearance_charts(progress).values()))
    out["violations chart"] = (None, lambda: violations_chart(cases))
    assert len(out) == 8
    return out


def _same(data: bytes) -> bytes:
    """A document without its creation time (the only thing that may differ between runs)."""
    return re.sub(rb"/CreationDate \(D:\d+Z?\)", b"", data)


def _text(data: bytes, tmp_path: Path, name: str) -> str:
    pdf = tmp_path / f"{re.sub(r'[^A-Za-z0-9-]', '_', name)}.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_eight_reports_at_once_are_the_reports_made_one_at_a_time(jobs, tmp_path):
    alone = {name: make() for name, (_, make) in jobs.items()}
    assert len({_same(b) for b in alone.values()}) == 8, "eight different reports"
    if shutil.which("pdftotext"):  # they are the documents asked for, not empty pages
        for name, (ident, _) in jobs.items():
            if ident is not None:
                assert ident in _text(alone[name], tmp_path, name), name

    for _ in range(3):
        start = threading.Barrier(len(jobs))

        def run(make, start=start):  # type: ignore[no-untyped-def]
            start.wait(timeout=60)
            return make()

        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = {name: pool.submit(run, make) for name, (_, make) in jobs.items()}
            together = {name: f.result(timeout=300) for name, f in futures.items()}
        for name, data in together.items():
            assert _same(data) == _same(alone[name]), f"{name} differs when drawn with others"


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils missing")
def test_extract_text_stays_type_3_without_touching_rcparams(jobs, tmp_path):
    """Type 3 is matplotlib's default ``pdf.fonttype``; the extract relies on it, not on a
    process-wide ``rc_context``."""
    name = next(n for n in jobs if n.startswith("extract"))
    pdf = tmp_path / "extract.pdf"
    pdf.write_bytes(jobs[name][1]())
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all("Type 3" in line for line in fonts), fonts
