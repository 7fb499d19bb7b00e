"""Legacy Vietnamese text: detect TCVN3 (ABC), VNI, cp1258 and mis-decoded UTF-8 per column.

Shapefile DBFs from Famis/MicroStation-era tools carry no ``.cpg``; GDAL then reads their bytes as
latin-1, so each byte becomes the code point of the same value. This module decides, for a whole
column at once (short single values are ambiguous), which legacy table turns those code points
into Vietnamese, and converts to Unicode NFC.

Conversion uses ``viparse`` (a maintained, table-driven converter; DOMAIN.md §5.5). Its automatic
detection is not used: on real TCVN3 owner names ("Chñ sö dông") it answers VNI. Instead every
candidate decoding is scored by how many of the words it produces are well-formed Vietnamese
syllables (letters of the Vietnamese alphabet, at most one tone mark, đ only at the start), and
the winner must beat the runner-up by a clear margin.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import viparse

from gis.core.enums import ParsedEnum

__all__ = ["TextEncoding", "ColumnDecoding", "detect_column_encoding", "detect_name_encoding",
           "decode_text", "decode_frame", "FIELD_NAMES"]


class TextEncoding(ParsedEnum):
    """How the text of a column is (or was) encoded."""

    UNICODE = "unicode"
    TCVN3 = "tcvn3"
    VNI = "vni"
    CP1258 = "cp1258"
    UTF8_AS_LATIN1 = "utf8-as-latin1"

    @classmethod
    def what(cls) -> str:
        return "text encoding"


LEGACY = (TextEncoding.TCVN3, TextEncoding.VNI, TextEncoding.CP1258, TextEncoding.UTF8_AS_LATIN1)

_BASE = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
_VOWELS = set("aăâeêioôơuưy")
_WORD = re.compile(r"[^\s\d.,;:/\\()\[\]\-+_\"'!?&#%*=<>|]+")


def _is_syllable(word: str) -> bool:
    """True when ``word`` reads as a Vietnamese (or plain Latin) syllable."""
    if word.isupper() and len(word) <= 4:
        # land-use and place codes ("NĐ", "ĐTL") are not syllables but are fine Vietnamese text
        return all(c.lower() in _BASE or c.isdigit() for c in unicodedata.normalize("NFC", word))
    nfd = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for c in nfd if c in _TONES)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
    if not base or any(c not in _BASE and not ("a" <= c <= "z") for c in base):
        return False
    if "đ" in base[1:]:
        return False
    return any(c in _VOWELS for c in base) or len(base) <= 3


def _legacy_candidate(text: str) -> bool:
    """Text that holds code points 0x80–0xFF only, some of them non-ASCII: legacy bytes."""
    return any(ord(c) > 0x7F for c in text) and all(ord(c) <= 0xFF for c in text)


def decode_text(text: str, encoding: TextEncoding) -> str:
    """Convert one string from ``encoding`` (as latin-1 code points) to Unicode NFC.

    >>> decode_text("§Êt trång lóa", TextEncoding.TCVN3)
    'Đất trồng lúa'
    >>> decode_text("Ñaát troàng luùa", TextEncoding.VNI)
    'Đất trồng lúa'
    """
    if encoding is TextEncoding.UNICODE or not _legacy_candidate(text):
        return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    if encoding is TextEncoding.TCVN3:
        out = _capitalise_title_words(viparse.fix(text, encoding="tcvn3"))
    elif encoding is TextEncoding.VNI:
        out = viparse.fix(text, encoding="vni")
    elif encoding is TextEncoding.CP1258:
        out = text.encode("latin-1").decode("cp1258", errors="replace")
    else:
        out = text.encode("latin-1").decode("utf-8", errors="replace")
    return unicodedata.normalize("NFC", out)


def _capitalise_title_words(text: str) -> str:
    """Restore capitals TCVN3 cannot encode ("Thôn Thanh ấm" -> "Thôn Thanh Ấm").

    TCVN3 has no capital toned vowels: typists used the lower-case code and an upper-case font
    (.VnTimeH). A word starting with a toned vowel is capitalised when every other word of the
    value starts with a capital, i.e. the value is a title-cased proper name.
    """
    words = text.split(" ")
    if len(words) < 2:
        return text
    lettered = [w for w in words if w and w[0].isalpha()]
    lower = [w for w in lettered if w[0].islower()]
    if len(lower) != 1 or len(lettered) < 2:
        return text
    word = lower[0]
    first = unicodedata.normalize("NFD", word[0])
    if not any(c in _TONES for c in first):
        return text
    i = words.index(word)
    words[i] = word[0].upper() + word[1:]
    return " ".join(words)


def _score(texts: list[str], encoding: TextEncoding) -> float:
    words = total = 0
    for text in texts:
        try:
            out = decode_text(text, encoding)
        except (UnicodeError, ValueError):
            return 0.0
        if "\ufffd" in out:
            return 0.0
        for word in _WORD.findall(out):
            if all(ord(c) < 0x80 for c in word):
                continue  # ASCII words say nothing about the encoding
            total += 1
            words += _is_syllable(word)
    return words / total if total else 0.0


@dataclass(frozen=True)
class ColumnDecoding:
    """What detection decided for one column."""

    column: str
    encoding: TextEncoding
    score: float
    runner_up: TextEncoding | None = None
    runner_up_score: float = 0.0
    ambiguous: bool = False
    converted: int = 0

    def as_dict(self) -> dict[str, object]:
        """Plain-dict form for reports."""
        return {
            "column": self.column,
            "encoding": self.encoding.value,
            "score": round(self.score, 3),
            "runner_up": self.runner_up.value if self.runner_up else None,
            "runner_up_score": round(self.runner_up_score, 3),
            "ambiguous": self.ambiguous,
            "converted_values": self.converted,
        }


def detect_column_encoding(values: Iterable[object], column: str = "", *,
                           margin: float = 0.15) -> ColumnDecoding:
    """Decide the encoding of a column from all its string values together.

    Columns that are ASCII or already hold Vietnamese Unicode are ``UNICODE``. Legacy columns get
    the candidate whose decoding yields the most well-formed syllables; when the best two are
    within ``margin`` of each other the result is marked ``ambiguous`` and the text left as it is.
    """
    texts = [v for v in values if isinstance(v, str) and v]
    legacy = [t for t in texts if _legacy_candidate(t)]
    if len(legacy) > 5000:  # a deterministic spread sample is as telling and 5 scorings cheaper
        step = len(legacy) / 5000
        legacy = [legacy[int(i * step)] for i in range(5000)]
    if not legacy:
        return ColumnDecoding(column, TextEncoding.UNICODE, 1.0)
    scores = sorted(((_score(legacy, enc), enc) for enc in LEGACY), key=lambda t: -t[0])
    (best_score, best), (second_score, second) = scores[0], scores[1]
    # Text that already reads as Vietnamese in latin-1 (e.g. French accents) is left alone.
    plain = _score(legacy, TextEncoding.UNICODE)
    if plain >= best_score:
        return ColumnDecoding(column, TextEncoding.UNICODE, plain, best, best_score)
    ambiguous = best_score < 0.5 or best_score - second_score < margin
    return ColumnDecoding(column, TextEncoding.UNICODE if ambiguous else best, best_score,
                          second if not ambiguous else best,
                          second_score if not ambiguous else best_score, ambiguous)


def _camel_words(text: str) -> list[str]:
    """"SốThửa" → ["Số", "Thửa"]: a new word at each capital that follows a letter."""
    words: list[str] = []
    for i, c in enumerate(text):
        if not words or (c.isupper() and text[i - 1].isalpha() and not text[i - 1].isupper()):
            words.append(c)
        else:
            words[-1] += c
    return words


def _name_score(names: list[str], encoding: TextEncoding) -> float:
    """Share of the non-ASCII words of CamelCase field names ("SốThửa" → Số, Thửa) that are
    syllables; a one-letter non-ASCII word (what a wrong table leaves behind) counts against."""
    good = total = 0
    for name in names:
        try:
            out = decode_text(name, encoding)
        except (UnicodeError, ValueError):
            return 0.0
        if "\ufffd" in out:
            return 0.0
        for part in re.split(r"[_\s]+", out):
            for word in _camel_words(part):
                if all(ord(c) < 0x80 for c in word):
                    continue
                total += 1
                good += len(word) > 1 and _is_syllable(word)
    return good / total if total else 0.0


def detect_name_encoding(names: Iterable[str], *, margin: float = 0.15) -> ColumnDecoding:
    """Decide the encoding of a layer's field names (short CamelCase words, all together)."""
    legacy = [n for n in names if isinstance(n, str) and _legacy_candidate(n)]
    if not legacy:
        return ColumnDecoding(FIELD_NAMES, TextEncoding.UNICODE, 1.0)
    scores = sorted(((_name_score(legacy, enc), enc) for enc in LEGACY), key=lambda t: -t[0])
    (best_score, best), (second_score, second) = scores[0], scores[1]
    plain = _name_score(legacy, TextEncoding.UNICODE)
    if plain >= best_score:
        return ColumnDecoding(FIELD_NAMES, TextEncoding.UNICODE, plain, best, best_score)
    ambiguous = best_score < 0.5 or best_score - second_score < margin
    return ColumnDecoding(FIELD_NAMES, TextEncoding.UNICODE if ambiguous else best, best_score,
                          second, second_score, ambiguous)


def decode_frame(frame: pd.DataFrame, *, overrides: dict[str, TextEncoding] | None = None
                 ) -> tuple[pd.DataFrame, list[ColumnDecoding]]:
    """Detect and convert every text column of ``frame``; return a new frame and the decisions.

    ``overrides`` forces an encoding for named columns (from a layer YAML). The field names are
    detected the same way (as one column) and renamed; the report lists them as
    ``(field names)``.
    """
    overrides = overrides or {}
    out = frame.copy()
    decisions = []
    for column in frame.columns:
        series = frame[column]
        if column == "geometry" or not (series.dtype == object or pd.api.types.is_string_dtype(series)):
            continue
        values = series.dropna().unique().tolist()
        if column in overrides:
            decision = ColumnDecoding(column, overrides[column], 1.0)
        else:
            decision = detect_column_encoding(values, column)
        mapping = {}
        for value in values:
            if isinstance(value, str):
                new = decode_text(value, decision.encoding)
                if new != value:
                    mapping[value] = new
        if mapping:
            out[column] = series.map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v)
        converted = int(series.isin(list(mapping)).sum()) if mapping else 0
        if converted or decision.ambiguous or decision.encoding is not TextEncoding.UNICODE:
            decisions.append(ColumnDecoding(decision.column, decision.encoding, decision.score,
                                            decision.runner_up, decision.runner_up_score,
                                            decision.ambiguous, converted))
    names = [str(c) for c in frame.columns if c != "geometry"]
    named = detect_name_encoding(names)
    if named.encoding is not TextEncoding.UNICODE or named.ambiguous:
        renames = {c: decode_text(c, named.encoding) for c in names}
        renames = {a: b for a, b in renames.items() if a != b}
        if renames and len(set(renames.values()) | (set(names) - set(renames))) == len(names):
            out = out.rename(columns=renames)
            decisions = [ColumnDecoding(renames.get(d.column, d.column), d.encoding, d.score,
                                        d.runner_up, d.runner_up_score, d.ambiguous, d.converted)
                         for d in decisions]
        decisions.append(ColumnDecoding(FIELD_NAMES, named.encoding, named.score, named.runner_up,
                                        named.runner_up_score, named.ambiguous, len(renames)
                                        if named.encoding is not TextEncoding.UNICODE else 0))
    return out, decisions


#: The pseudo-column under which the decision on the field names is reported.
FIELD_NAMES = "(field names)"
