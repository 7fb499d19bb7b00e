"""The reader's language: ``?lang=`` (kept in a cookie) or the cookie alone, else Vietnamese.
The texts themselves are in the one catalogue (:mod:`gis.text`)."""

from __future__ import annotations

from starlette.requests import Request

from gis.text import DEFAULT_LANG, LANGS, Translator, translator

__all__ = ["LANGS", "lang_of", "translator_of"]


def lang_of(request: Request) -> str:
    """The page language: ``?lang=`` first, then the ``gis_lang`` cookie, else Vietnamese."""
    lang = request.query_params.get("lang") or request.cookies.get("gis_lang") or DEFAULT_LANG
    return lang if lang in LANGS else DEFAULT_LANG


def translator_of(request: Request) -> Translator:
    """The catalogue in the request's language."""
    return translator(lang_of(request))
