"""Run every case of the corpus manifest (tests/corpus/cases.py) against its own store copy.

The corpus files are written once per session by ``make_corpus.py``; one base store (the sample
district of 1 000 parcels: wards, parcels, projects) is built once and copied for each case.
Commands run in-process through click's CliRunner, in an empty working directory (no
``./layers`` catalog), with ``GIS_STORE`` and ``GIS_DATA_DIR`` of the case.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gis.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import BUGS, CASES, Case  # noqa: E402
from make_corpus import make_corpus  # noqa: E402

pytestmark = pytest.mark.slow


def flat(text: str) -> str:
    return " ".join(text.split())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, catch_exceptions=True)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], Path]:
    """(corpus folder, the entries make_corpus wrote, the base store)."""
    root = tmp_path_factory.mktemp("corpus")
    files = make_corpus(root / "files")
    base = root / "base" / "store.gpkg"
    base.parent.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root / "base")
        mp.setenv("GIS_STORE", str(base))
        mp.setenv("GIS_DATA_DIR", str(root / "base" / "data"))
        result = invoke(["sample", "--parcels", "1000", "--out", str(root / "sample")])
        assert result.exit_code == 0, result.output
        for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                           ("projects", "projects.shp")):
            result = invoke(["ingest", kind, str(root / "sample" / name)])
            assert result.exit_code == 0, result.output
    return root / "files", files, base


def _param(case: Case):  # type: ignore[no-untyped-def]
    marks = []
    if case.id in BUGS:
        marks.append(pytest.mark.xfail(strict=True, reason=f"bug: {BUGS[case.id]}"))
    return pytest.param(case, id=case.id, marks=marks)


def _report_figures(tmp: Path) -> dict[str, object]:
    out = tmp / f"progress-{len(list(tmp.glob('progress-*')))}.json"
    result = invoke(["clearance", "report", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    return {"projects": data["projects"], "wards": data["wards"]}


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: Case, corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _, base = corpus
    store = tmp_path / "store.gpkg"
    shutil.copyfile(base, store)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("GIS_STORE", str(store))
    monkeypatch.setenv("GIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "400")  # one Error: line, table cells unwrapped

    def expand(args: tuple[str, ...]) -> list[str]:
        return [a.replace("{d}", str(folder)) for a in args]

    for step in case.setup:
        result = invoke(expand(step))
        assert result.exit_code == 0, (step, result.output)
    before_figures = _report_figures(tmp_path) if case.report_unchanged else None

    report = tmp_path / "report.json"
    before = sha256(store)
    result = invoke([*expand(case.args), "--report", str(report)])
    output = result.output
    assert "Traceback" not in output, output
    assert result.exit_code != 1, f"unexpected error (exit 1): {output}"
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    text = flat(output)
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    searchable = text + " " + flat(json.dumps(data, ensure_ascii=False))

    if case.outcome == "refused":
        assert result.exit_code == case.exit_code, output
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, output
        for needle in case.message:  # in the one-line message itself
            assert needle in errors[0], (needle, errors[0])
        assert sha256(store) == before, "the store changed after a refusal"
        return

    assert case.outcome == "loaded"
    assert result.exit_code == 0, output
    if case.args[0] == "validate":
        assert sha256(store) == before, "validate changed the store"
    for needle in case.message:
        assert needle in searchable, (needle, output)
    summary = data.get("summary", {})
    for key, value in case.counts.items():
        assert summary.get(key) == value, (key, summary, output)
    if case.kind == "sheet":
        rules = set(summary.get("issues", {}))
    else:
        rules = {str(k).split(" (")[0] for k in summary.get("issues", {})}
    for rule in case.rules:
        assert rule in rules, (rule, rules)
    for rule in case.no_rules:
        assert rule not in rules, (rule, rules, output)
    if case.stored:
        from gis.store import open_store

        records = open_store(store).read("clearance_records").set_index("parcel_key")
        for key, expected in case.stored.items():
            assert key in records.index, (key, sorted(records.index))
            row = records.loc[key]
            for column, value in expected.items():
                got = row[column]
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    assert got == got and abs(float(got) - value) < 0.01, (key, column, got, value)
                elif column.startswith("date_"):
                    assert str(got)[:10] == value, (key, column, got, value)
                else:
                    assert got == value, (key, column, got, value)
    if case.report_unchanged:
        assert _report_figures(tmp_path) == before_figures


def test_manifest_covers_the_corpus(corpus) -> None:
    _, files, _ = corpus
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 60
    assert sum(c.kind == "sheet" for c in CASES) >= 40
    assert sum(c.kind == "layer" for c in CASES) >= 20
    assert set(BUGS) <= set(ids)
    used = set().union(*(c.files for c in CASES))
    written = {p.name for p in files}
    assert written - used == set(), f"corpus files no case uses: {sorted(written - used)}"
    assert used - written == set(), f"cases name files make_corpus does not write: {used - written}"
    for c in CASES:
        assert c.outcome in ("loaded", "refused")
        assert (c.exit_code in (2, 3)) if c.outcome == "refused" else c.exit_code == 0
