"""One base for the enumerations users type: parsed case-blind, with aliases, and an error that
lists the valid values (instead of a ``parse`` copied into every enum)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

__all__ = ["ParsedEnum"]

E = TypeVar("E", bound="ParsedEnum")


class ParsedEnum(str, Enum):
    """A text enumeration read from user input.

    Subclasses say what the values are called (:meth:`what`), may add aliases, change the case
    folding, give a default for ``None`` and choose the error class.

    >>> class Colour(ParsedEnum):
    ...     RED = "red"
    ...     @classmethod
    ...     def what(cls) -> str:
    ...         return "colour"
    >>> Colour.parse(" Red "), Colour.parse(Colour.RED)
    (<Colour.RED: 'red'>, <Colour.RED: 'red'>)
    >>> Colour.parse("blue")
    Traceback (most recent call last):
    ValueError: unknown colour 'blue'; valid: red
    """

    @classmethod
    def what(cls) -> str:
        """What a value is called in messages ("layer kind", "format")."""
        return cls.__name__

    @classmethod
    def fold(cls, text: str) -> str:
        """How typed text is compared with the values (default: trimmed, lower case)."""
        return text.strip().lower()

    @classmethod
    def aliases(cls) -> Mapping[str, str]:
        """Other words accepted for a value (folded word → value)."""
        return {}

    @classmethod
    def default(cls: type[E]) -> E | None:
        """The value ``None`` stands for; None when a value is required."""
        return None

    @classmethod
    def error(cls, message: str, value: Any) -> Exception:
        """The exception raised for an unknown value (default ``ValueError``)."""
        return ValueError(message)

    @classmethod
    def parse(cls: type[E], value: Any) -> E:
        """The member ``value`` names; the error lists the valid values."""
        if isinstance(value, cls):
            return value
        if value is None:
            default = cls.default()
            if default is not None:
                return default
        text = cls.fold(str(value if value is not None else ""))
        text = cls.aliases().get(text, text)
        try:
            return cls(text)
        except ValueError:
            valid = ", ".join(member.value for member in cls)
            raise cls.error(f"unknown {cls.what()} {value!r}; valid: {valid}", value) from None
