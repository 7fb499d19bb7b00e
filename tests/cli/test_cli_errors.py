"""Errors and warnings on the command line: a domain error is one line naming where; an
unexpected one is one line with an id, its traceback in <data_dir>/logs/errors.log; Python
warnings go to that log, never to the officer's screen."""

from __future__ import annotations

import re
import warnings

import pytest
from click.testing import CliRunner

from gis.cli import cli


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("GIS_DATA_DIR", str(folder))
    monkeypatch.delenv("GIS_STORE", raising=False)
    return folder


def test_unexpected_error_is_one_line_with_an_id_and_logged(data_dir, monkeypatch):
    import gis.store

    def broken(path):  # noqa: ARG001
        raise RuntimeError("disk gremlin\nsecond line")

    monkeypatch.setattr(gis.store, "open_store", broken)
    res = CliRunner().invoke(cli, ["store", "info"])
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1, res.output
    found = re.search(r"\[([0-9a-f]{8})\]", lines[0])
    assert found, lines[0]
    assert "gis store info" in lines[0] and "RuntimeError: disk gremlin" in lines[0]
    log = (data_dir / "logs" / "errors.log").read_text(encoding="utf-8")
    entry = log[log.index(f"=== {found.group(1)} "):]
    assert "Traceback (most recent call last)" in entry
    assert "RuntimeError: disk gremlin" in entry and "in broken" in entry


def test_value_error_from_deep_inside_is_unexpected_not_a_bad_option(data_dir, monkeypatch,
                                                                       tmp_path):
    import gis.catalog

    def broken(folder):  # noqa: ARG001
        raise ValueError("invalid literal for int() with base 10: 'x'")

    monkeypatch.setattr(gis.catalog, "load_catalog", broken)
    res = CliRunner().invoke(cli, ["catalog", "validate", str(tmp_path)])
    assert res.exit_code == 1
    assert "Unexpected error" in res.output and "gis catalog validate" in res.output
    assert "Traceback" not in res.output


def test_domain_error_keeps_its_line_and_exit_code(data_dir, tmp_path):
    res = CliRunner().invoke(cli, ["validate", str(tmp_path / "missing.shp")])
    assert res.exit_code == 2
    assert "missing.shp" in res.output and "Unexpected" not in res.output
    assert not (data_dir / "logs" / "errors.log").exists()


def test_warnings_go_to_the_log_not_to_stderr(data_dir, monkeypatch, tmp_path):
    import gis.catalog

    real = gis.catalog.load_catalog

    def noisy(folder):
        warnings.warn("pyogrio: field name laundered", RuntimeWarning, stacklevel=1)
        return real(folder)

    monkeypatch.setattr(gis.catalog, "load_catalog", noisy)
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames \
        else CliRunner()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        res = runner.invoke(cli, ["catalog", "validate", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "laundered" not in res.stderr and "laundered" not in res.output
    log = (data_dir / "logs" / "errors.log").read_text(encoding="utf-8")
    assert "RuntimeWarning" in log and "field name laundered" in log
