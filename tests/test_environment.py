"""environment.yml (conda-forge) and pyproject.toml list the same runtime dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import ROOT


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ ]", spec.strip(), maxsplit=1)[0].lower()


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = {_name(d) for d in project["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda: set[str] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda |= {_name(d) for d in dep.get("pip", [])}
        elif _name(dep) not in ("python", "pip"):
            conda.add(_name(dep))
    assert conda == pyproject
    assert "conda-forge" in env["channels"]
