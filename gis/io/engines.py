"""The I/O engines that read and write layers. The choice lives only in :mod:`gis.io`."""

from __future__ import annotations

from gis.core.enums import ParsedEnum

__all__ = ["Engine"]


class Engine(ParsedEnum):
    """Vector I/O engine.

    ``pyogrio`` (default: measured 26x faster than fiona for reading 100k parcels with Arrow,
    see ``benchmarks/``) or ``fiona``.
    """

    PYOGRIO = "pyogrio"
    FIONA = "fiona"

    @classmethod
    def what(cls) -> str:
        """``Engine.parse("Fiona")`` is FIONA; ``Engine.parse(None)`` the default, PYOGRIO."""
        return "engine"

    @classmethod
    def default(cls) -> Engine:
        return cls.PYOGRIO
