"""The one text catalogue: everything an officer reads, in Vietnamese and English.

The texts live in gettext catalogues, ``gis/locale/{vi,en}/LC_MESSAGES/gis.po``, managed with
Babel (README "Texts and translations"). A message's id (``msgid``) is its English source text,
as gettext does it: the code stays readable and ``pybabel extract`` finds every text. Where one
English text needs two Vietnamese ones, a context tells them apart (:func:`pgettext`). Both
catalogues carry every message (``tests/test_text.py`` checks that, that no entry is unused and
that the placeholders agree), so correcting an English wording is an edit of ``en/gis.po``.

Placeholders are named, Python style: ``gettext("the %(role)s role may not do this", lang,
role="viewer")``.

The ``.po`` files are read with Babel once per process and language, on first use: about 70 ms
for both languages with Babel's import (measured: 15-40 ms to import, 20-30 ms a language),
against 1.4 s to import ``gis`` itself; so no compiled ``.mo`` to build, ship or keep in step
with the ``.po``. The domain core does not import
this module (it stays free of I/O): it takes a :class:`Translate` callable from its caller.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["LANGS", "DEFAULT_LANG", "LANGUAGE_NAMES", "BROWSER_LOCALES", "LOCALE_DIR", "DOMAIN", "Message", "Text", "Translator", "N_", "NC_", "text",
           "gettext", "pgettext", "ngettext", "translator", "translations", "lang_or_default",
           "install_jinja"]

#: the languages of the catalogue, the default first
LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
#: each language by its own name (the language switch shows the other one)
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
#: the locale a browser formats numbers and dates with (``toLocaleString``)
BROWSER_LOCALES = {"vi": "vi-VN", "en": "en-GB"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "gis"


def lang_or_default(lang: str | None) -> str:
    """``lang`` if the catalogue has it, else Vietnamese."""
    return lang if lang in LANGS else DEFAULT_LANG


def po_path(lang: str) -> Path:
    """The catalogue file of one language."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> _gettext.GNUTranslations:
    """The catalogue of ``lang`` (read once per process)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(lang_or_default(lang)).open("rb") as fh:
        catalog = read_po(fh, domain=DOMAIN)  # the header has the plural rule
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def _fill(text: str, values: Mapping[str, Any]) -> str:
    return text % values if values else text


def N_(msgid: str) -> str:  # noqa: N802  (gettext's name for "mark for extraction")
    """Mark a text for the catalogue where it is defined; translate it where it is shown."""
    return msgid


def NC_(context: str, msgid: str) -> tuple[str, str]:  # noqa: N802
    """Like :func:`N_`, for a text with a context (``pybabel extract -k NC_:1c,2``)."""
    return context, msgid


#: a text as tables hold it: its msgid, or (context, msgid) from :func:`NC_`
Text = str | tuple[str, str]


def text(msg: Text, lang: str, /, **values: Any) -> str:
    """A table's text (:func:`N_` or :func:`NC_`) in ``lang``."""
    if isinstance(msg, tuple):
        return pgettext(msg[0], msg[1], lang, **values)
    return gettext(msg, lang, **values)


def gettext(msgid: str, lang: str, /, **values: Any) -> str:
    """``msgid`` in ``lang``, with its ``%(name)s`` placeholders filled from ``values``."""
    return _fill(translations(lang).gettext(msgid), values)


def pgettext(context: str, msgid: str, lang: str, /, **values: Any) -> str:
    """Like :func:`gettext`, for a text whose translation depends on where it is shown."""
    return _fill(translations(lang).pgettext(context, msgid), values)


def ngettext(singular: str, plural: str, n: int, lang: str, /, **values: Any) -> str:
    """The singular or plural form for ``n`` (``%(n)s`` is filled with ``n``)."""
    return _fill(translations(lang).ngettext(singular, plural, n), {"n": n, **values})


@dataclass(frozen=True)
class Translator:
    """The catalogue in one language, to pass to code that must not know about files (the
    domain core) or that shows many texts: ``_ = translator(lang)`` then ``_("Parcels")``."""

    lang: str

    def __call__(self, msg: Text, /, **values: Any) -> str:
        """A text (a msgid, or a table's ``NC_`` pair) in this language."""
        return text(msg, self.lang, **values)

    def gettext(self, msgid: str, /, **values: Any) -> str:
        return gettext(msgid, self.lang, **values)

    def pgettext(self, context: str, msgid: str, /, **values: Any) -> str:
        return pgettext(context, msgid, self.lang, **values)

    def text(self, msg: Text, /, **values: Any) -> str:
        return text(msg, self.lang, **values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        return ngettext(singular, plural, n, self.lang, **values)


def translator(lang: str) -> Translator:
    """The catalogue in ``lang`` (Vietnamese when the catalogue has no such language)."""
    return Translator(lang_or_default(lang))


@dataclass(frozen=True)
class Message:
    """A text not yet put in a language: raised in an error and shown later to a reader whose
    language is known there (the HTML error page). ``str()`` gives the English text (API
    clients, logs)."""

    msgid: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return gettext(self.msgid, lang, **self.values)

    def __str__(self) -> str:
        return self.text("en")


def install_jinja(env: Any) -> None:
    """Jinja2's i18n extension on ``env``, translating into the template's ``lang`` variable:
    ``{{ _("Sign in") }}``, ``{{ _("%(n)s layers", n=3) }}``, ``{% trans %}``. A translation is
    text, not HTML: it is escaped like any other value ("&" becomes "&amp;")."""
    from jinja2 import pass_context
    from markupsafe import escape

    env.add_extension("jinja2.ext.i18n")

    def _of(context: Any) -> _gettext.GNUTranslations:
        return translations(context.get("lang", DEFAULT_LANG))

    @pass_context
    def _gettext_(context: Any, msgid: str) -> str:
        return escape(_of(context).gettext(msgid))

    @pass_context
    def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
        return escape(_of(context).ngettext(singular, plural, n))

    @pass_context
    def _pgettext(context: Any, ctx: str, msgid: str) -> str:
        return escape(_of(context).pgettext(ctx, msgid))

    @pass_context
    def _npgettext(context: Any, ctx: str, singular: str, plural: str, n: int) -> str:
        return escape(_of(context).npgettext(ctx, singular, plural, n))

    env.install_gettext_callables(gettext=_gettext_, ngettext=_ngettext, pgettext=_pgettext,
                                  npgettext=_npgettext, newstyle=True)
