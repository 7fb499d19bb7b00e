"""Error pages speak the reader's language (the 403 page was English inside the Vietnamese UI)."""

from __future__ import annotations

import pytest

HTML = {"Accept": "text/html"}


@pytest.mark.parametrize(("lang", "expected"), [
    ("vi", "vai trò viewer không được làm việc này (cần quyền export)"),
    ("en", "the viewer role may not do this (needs export)"),
])
def test_the_403_page_is_in_the_readers_language(service, lang, expected):
    res = service.client.get(f"/exports?lang={lang}", headers={**HTML, **service.auth("viewer")})
    assert res.status_code == 403
    assert expected in res.text
    other = "the viewer role" if lang == "vi" else "vai trò"
    assert other not in res.text
    assert f'<html lang="{lang}">' in res.text


def test_the_403_answer_to_an_api_client_stays_english_json(service):
    res = service.client.get("/api/uploads", headers=service.auth("viewer"))
    assert res.status_code == 403
    assert res.json()["message"] == "the viewer role may not do this (needs admin)"


def test_translations_are_escaped_like_any_other_text(service):
    """A translation is text, not HTML: "&" in a menu entry is written "&amp;"."""
    res = service.client.get("/?lang=vi", headers={**HTML, **service.auth("viewer")})
    assert res.status_code == 200
    assert "Tiến độ &amp; thống kê" in res.text and "Tiến độ & thống kê" not in res.text
