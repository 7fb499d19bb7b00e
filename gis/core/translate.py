"""What the domain core needs to word a text for people without reading a catalogue (the core
does no I/O): its caller passes a translator in, :class:`gis.text.Translator` in the package."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Translate"]


class Translate(Protocol):
    """The catalogue in one language: ``_("As of %(day)s", day=...)``."""

    @property
    def lang(self) -> str:
        """The language (``vi``, ``en``), for numbers written the reader's way."""
        ...

    def __call__(self, msgid: str, /, **values: object) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str: ...
