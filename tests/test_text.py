"""The one text catalogue (gis/text.py, gis/locale): every text the code uses is in both
languages, no entry is left over, the placeholders agree, and no language switch is left in the
code (texts come from the catalogue, numbers from ``format_number``)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

babel = pytest.importorskip("babel")

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

from gis import text  # noqa: E402

KEYWORDS = {**DEFAULT_KEYWORDS, "NC_": ((1, "c"), 2)}
METHODS = [("gis/**.py", "python"), ("gis/api/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _key(context: str | None, msgid: str | tuple[str, ...]) -> tuple[str | None, str]:
    return context, msgid if isinstance(msgid, str) else msgid[0]


def _used() -> dict[tuple[str | None, str], str]:
    found = {}
    for filename, _line, msgid, _comments, context in extract_from_dir(
            ROOT, METHODS, keywords=KEYWORDS):
        found.setdefault(_key(context, msgid), filename)
    return found


def _catalogue(lang: str):  # type: ignore[no-untyped-def]
    with text.po_path(lang).open("rb") as fh:
        return {_key(m.context, m.id): m for m in read_po(fh, locale=lang) if m.id}


@pytest.fixture(scope="module")
def used() -> dict[tuple[str | None, str], str]:
    return _used()


@pytest.mark.parametrize("lang", text.LANGS)
def test_every_text_used_is_in_the_catalogue_and_no_entry_is_unused(used, lang):
    catalogue = _catalogue(lang)
    missing = {k: where for k, where in used.items() if k not in catalogue}
    untranslated = sorted(k for k, m in catalogue.items() if not m.string or m.fuzzy)
    unused = sorted(set(catalogue) - set(used))
    assert not missing, f"{lang}: texts used but not in gis/locale/{lang}: {missing}"
    assert not untranslated, f"{lang}: entries without a translation: {untranslated}"
    assert not unused, f"{lang}: entries no code uses (remove them): {unused}"


def test_the_two_languages_have_the_same_placeholders():
    vi, en = _catalogue("vi"), _catalogue("en")
    for key, message in vi.items():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set(PLACEHOLDER.findall(ids[0]))
        for lang, m in (("vi", message), ("en", en[key])):
            for form in (m.string if isinstance(m.string, tuple) else (m.string,)):
                assert set(PLACEHOLDER.findall(form)) == expected, (lang, key, form)


def test_translations_fill_placeholders_and_fall_back_to_vietnamese():
    msgid = "the %(role)s role may not do this (needs %(permission)s)"
    assert text.gettext(msgid, "vi", role="viewer", permission="export") == \
        "vai trò viewer không được làm việc này (cần quyền export)"
    assert text.gettext(msgid, "en", role="viewer", permission="export") == \
        "the viewer role may not do this (needs export)"
    assert text.translator("fr").lang == "vi"
    message = text.Message(msgid, {"role": "viewer", "permission": "export"})
    assert str(message) == "the viewer role may not do this (needs export)"
    assert message.text("vi").startswith("vai trò viewer")


#: a language picked by comparing it in code (texts belong in the catalogue)
SWITCH = re.compile(r"""lang(?:uage)?\s*[!=]=\s*['"](?:vi|en)['"]|['"](?:vi|en)['"]\s*[!=]=\s*lang""")


def test_no_language_switch_is_left_in_the_code():
    files = [p for p in (ROOT / "gis").rglob("*") if p.suffix in (".py", ".html", ".js")
             and "_shipped" not in p.parts and "vendor" not in p.parts]
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in files
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if SWITCH.search(line)]
    assert not found, "language switches: use the catalogue (gis.text):\n" + "\n".join(found)


def test_the_switch_pattern_finds_the_old_idioms():
    for line in ('i = 0 if lang == "vi" else 1', "{{ 'en' if lang == 'vi' else 'vi' }}",
                 'if lang != "vi":', 'return 1 if lang == "en" else 0', 'if "vi" == lang:'):
        assert SWITCH.search(line), line
    assert not SWITCH.search('lang = lang_or_default(lang)')


def test_the_core_words_the_briefing_with_the_translator_it_is_given():
    from gis.core.clearance.summary import briefing

    d = {"projects_total": 46, "state_budget": {"projects": 35, "carried_over": 27, "new": 8},
         "non_budget": {"projects": 11}, "plans_approved": 405, "plans_total": 1315,
         "area_recovered_m2": 38000.0, "compensation_paid_vnd": 182_900_000_000,
         "projects_completed": 2, "recovered_ratio_this_vs_last_year": None}
    assert briefing(d, as_of="30/11/2024", translate=text.translator("en")) == (
        "As of 30/11/2024: 46 projects: 35 state-budget (27 carried over, 8 new) and 11 "
        "non-budget; 405 of 1,315 plans approved; 3.8 ha recovered; 182.9 billion VND paid; 2 "
        "projects completed.")
    assert briefing(d, as_of="30/11/2024", translate=text.translator("vi")) == (
        "Tính đến ngày 30/11/2024: 46 dự án, trong đó 35 dự án vốn ngân sách (27 chuyển tiếp, 8 "
        "khởi công mới) và 11 dự án vốn ngoài ngân sách; đã phê duyệt 405/1.315 phương án; đã thu "
        "hồi 3,8 ha; đã chi trả 182,9 tỷ đồng; 2 dự án hoàn thành giải phóng mặt bằng.")
    one = {**d, "projects_completed": 1, "recovered_ratio_this_vs_last_year": 1.25}
    assert briefing(one, as_of="30/11/2024", translate=text.translator("en")).endswith(
        "; 1 project completed; area recovered this year is 1.2 times last year's.")
