"""Unicode → TCVN3 (ABC, ``.VnTime`` fonts) encoder for legacy-style DBF exports.

The table below is transcribed from the TCVN 5712:1993 "VN3" (ABC) byte layout as
documented in DOMAIN.md §5.5: ``0xA1``–``0xA7`` hold the capitals Ă Â Ê Ô Ơ Ư Đ,
``0xA8``–``0xAE`` the lowercase ă â ê ô ơ ư đ, and the toned lowercase vowels sit above
``0xB5``. It was written by hand, not imported, and the tests cross-check every entry
against the (inverted) decoding table shipped by ``viparse`` and round-trip through
``viparse.fix(..., encoding="tcvn3")``.

TCVN3 has no precomposed *capital toned* vowels (headings were typed with lowercase codes
and drawn uppercase by the ``.VnTimeH`` font), so a capital toned vowel is encoded with
the code of its lowercase form and decodes back lowercase; :func:`fold_for_tcvn3` gives
that expected round-trip form.
"""

from __future__ import annotations

import unicodedata

__all__ = ["TCVN3_TABLE", "encode_tcvn3", "fold_for_tcvn3"]

# Toned vowels: base letter -> codes for (grave, hook above, tilde, acute, dot below).
_TONE_MARKS = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
_TONED_CODES: dict[str, tuple[int, int, int, int, int]] = {
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
# Untoned letters outside ASCII: capitals 0xA1-0xA7, lowercase 0xA8-0xAE (0xAD = ư, the
# soft-hyphen slot).
_BASE_CODES: dict[str, int] = {
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
}


def _build_table() -> dict[str, int]:
    table = dict(_BASE_CODES)
    for base, codes in _TONED_CODES.items():
        for mark, code in zip(_TONE_MARKS, codes):
            lower = unicodedata.normalize("NFC", base + mark)
            table[lower] = code
            table[lower.upper()] = code  # no capital toned letters in TCVN3
    return table


#: Unicode (NFC) Vietnamese letter -> TCVN3 byte value (74 lowercase/base + 60 capitals).
TCVN3_TABLE: dict[str, int] = _build_table()
_TRANSLATE = {ord(char): chr(code) for char, code in TCVN3_TABLE.items()}
_FOLD = {
    ord(char): char.lower()
    for char in TCVN3_TABLE
    if char not in _BASE_CODES and char != char.lower()
}


def encode_tcvn3(text: str) -> str:
    """Encode Unicode text as TCVN3, returned as latin-1 code points.

    Parameters
    ----------
    text : str
        Unicode text (any normalisation form; it is NFC-normalised first).

    Returns
    -------
    str
        A string whose ``.encode("latin-1")`` bytes are the TCVN3 bytes. ASCII passes
        through; capital toned vowels get their lowercase code (see :func:`fold_for_tcvn3`).

    Raises
    ------
    ValueError
        If ``text`` has a character TCVN3 cannot represent, or a Latin-1 character in
        the 0x80-0xFF range that TCVN3 reuses for Vietnamese letters (it would not
        decode back to itself).

    Examples
    --------
    >>> encode_tcvn3("Đất trồng lúa").encode("latin-1")
    b'\\xa7\\xcat tr\\xe5ng l\\xf3a'
    >>> encode_tcvn3("phường")
    'ph\\xadêng'
    """
    nfc = unicodedata.normalize("NFC", text)
    out = nfc.translate(_TRANSLATE)
    if not out.isascii():
        bad = [c for c in nfc if ord(c) >= 0x80 and c not in TCVN3_TABLE]
        if bad:
            original = bad[0]
            raise ValueError(
                f"character {original!r} (U+{ord(original):04X}) in {text!r} "
                "has no TCVN3 code"
            )
    return out


def fold_for_tcvn3(text: str) -> str:
    """Return what ``text`` becomes after a TCVN3 round trip.

    NFC, with capital toned vowels (Ấ, Ở, Ý, …) lowered; untoned capitals (Ă Â Ê Ô Ơ Ư Đ)
    and ASCII keep their case.

    Examples
    --------
    >>> fold_for_tcvn3("ẤP ƯƠM Đông")
    'ấP ƯƠM Đông'
    """
    return unicodedata.normalize("NFC", text).translate(_FOLD)
