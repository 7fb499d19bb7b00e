"""Who may touch what (DESIGN.md "Layers"), checked on the source: every import of every module.

Where the code does not follow a rule yet, the module is listed in a DEBT table with the reason;
the test fails both when a new module breaks a rule and when a listed one no longer needs its
entry (so the tables only shrink). Issue 11 empties them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

GIS = ROOT / "gis"
IO_LIBRARIES = {"sqlite3", "pyogrio", "fiona", "psycopg", "psycopg_pool"}
#: modules outside gis/store and gis/io that still open databases or files themselves
IO_DEBT: dict[str, str] = {}
#: the domain core imports only the core and these pure modules
CORE_MAY_IMPORT = {"gis.core", "gis.errors", "gis.fields", "gis.landuse"}
CORE_DEBT = {"gis/core/violations/rules.py": "Title comes from gis.catalog (reads YAML)"}
#: web modules reaching into private functions of gis.render
RENDER_PRIVATE_DEBT: dict[str, str] = {}
#: error classes outside gis/errors.py
ERROR_DEBT: dict[str, str] = {}
FRAMEWORKS = {"fastapi", "starlette", "click", "rich", "uvicorn"}


def _modules() -> list[Path]:
    return sorted(p for p in GIS.rglob("*.py") if "_shipped" not in p.parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            out.append((module, [a.name for a in node.names]))
    return out


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _check(rule: str, broken: dict[str, str], debt: dict[str, str]) -> None:
    new = {m: why for m, why in broken.items() if m not in debt}
    paid = sorted(set(debt) - set(broken))
    assert not new, f"{rule}: new modules break the rule: {new}"
    assert not paid, f"{rule}: these modules follow the rule now; remove them from the debt: {paid}"


def test_only_store_and_io_open_databases_and_files():
    broken = {}
    for path in _modules():
        rel = _rel(path)
        if rel.startswith(("gis/store/", "gis/io/")):
            continue
        used = {m.split(".")[0] for m, _ in _imports(path)} & IO_LIBRARIES
        if used:
            broken[rel] = ", ".join(sorted(used))
    _check("sqlite3/pyogrio/fiona outside gis/store and gis/io", broken, IO_DEBT)


def test_the_core_imports_only_the_core():
    broken = {}
    for path in (GIS / "core").rglob("*.py"):
        bad = [m for m, _ in _imports(path) if m.startswith("gis")
               and not any(m == ok or m.startswith(ok + ".") for ok in CORE_MAY_IMPORT)]
        bad += [m for m, _ in _imports(path) if m.split(".")[0] in IO_LIBRARIES | FRAMEWORKS
                | {"yaml", "requests", "httpx"}]
        if bad:
            broken[_rel(path)] = ", ".join(sorted(set(bad)))
    _check("gis/core imports only the core and pure modules", broken, CORE_DEBT)


@pytest.mark.parametrize("layer", ["core", "store", "io", "render", "report"])
def test_lower_layers_know_nothing_of_the_web_or_the_command_line(layer):
    for path in (GIS / layer).rglob("*.py"):
        for module, _ in _imports(path):
            top = module.split(".")[0]
            assert top not in FRAMEWORKS, f"{_rel(path)} imports {module}"
            assert not module.startswith(("gis.api", "gis.cli")), f"{_rel(path)} imports {module}"


def test_the_web_uses_only_public_functions_of_render():
    broken = {}
    for path in (GIS / "api").rglob("*.py"):
        private = [n for m, names in _imports(path) if m.startswith("gis.render")
                   for n in names if n.startswith("_")]
        if private:
            broken[_rel(path)] = ", ".join(private)
    _check("gis/api uses only public names of gis/render", broken, RENDER_PRIVATE_DEBT)


def test_error_classes_live_in_gis_errors():
    broken = {}
    for path in _modules():
        if _rel(path) == "gis/errors.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id == "GisError")
            for b in node.bases)]
        if names:
            broken[_rel(path)] = ", ".join(names)
    _check("error classes only in gis/errors.py", broken, ERROR_DEBT)
