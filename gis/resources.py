"""The catalog and map folders that ship with the package.

``layers/`` (layer YAMLs, ``rules/``, ``sheets/``, ``styles/``) and ``maps/`` live once, at the
top of the repository, where officers and maintainers edit them. A wheel carries a copy made at
build time (``setup.py`` copies them to ``gis/_shipped/``); an editable install or a checkout on
``PYTHONPATH`` uses the repository folders themselves. Either way the commands find them from any
working folder; ``GIS_CATALOG``/``--catalog`` and ``GIS_MAPS`` point elsewhere.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED", "shipped_folder"]

#: the folders shipped with the package
SHIPPED = ("layers", "maps")
_HERE = Path(__file__).resolve().parent


def shipped_folder(name: str) -> Path:
    """The shipped ``layers`` or ``maps`` folder: the wheel's copy, else the checkout's."""
    if name not in SHIPPED:
        raise KeyError(f"no shipped folder {name!r}; shipped: {', '.join(SHIPPED)}")
    for candidate in (_HERE / "_shipped" / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    return _HERE.parent / name  # not there: the loader names this path in its error
