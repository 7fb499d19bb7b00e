"""The ``gis`` command line: one module per command group; no logic of its own."""

from gis.cli import clearance as _clearance  # noqa: F401  (registers the clearance commands)
from gis.cli import db as _db  # noqa: F401  (registers gis db)
from gis.cli import exports as _exports  # noqa: F401  (registers gis export)
from gis.cli import maps as _maps  # noqa: F401  (registers the map commands)
from gis.cli import serve as _serve  # noqa: F401  (registers serve and users)
from gis.cli import violations as _violations  # noqa: F401  (registers the violations commands)
from gis.cli.main import cli, main

__all__ = ["cli", "main"]
