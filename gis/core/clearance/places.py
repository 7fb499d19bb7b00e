"""The wards and projects a sheet names: codes, names (accent- and case-blind), titles."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from gis.core.clearance.wording import fold_words
from gis.core.model import normalise_ward_code

__all__ = ["WARD_WORDS", "NameIndex", "project_in_title", "find_project", "resolve_ward"]

#: the type words a ward name may start with ("P. Phúc Diễn", "Phường Phúc Diễn")
WARD_WORDS = ("phuong", "xa", "thi tran", "p", "x", "tt", "dac khu")


class NameIndex:
    """Accent- and case-blind lookup of names (wards, projects) → code, with ambiguity."""

    def __init__(self, names: Mapping[str, str], strip: Sequence[str] = ()) -> None:
        self.strip = [tuple(s.split()) for s in strip]
        self.by_name: dict[str, set[str]] = {}
        for code, name in names.items():
            for key in {self.key(name), self.key(code)}:
                if key:
                    self.by_name.setdefault(key, set()).add(code)

    def key(self, text: object) -> str:
        words = fold_words(str(text or ""))
        for s in sorted(self.strip, key=len, reverse=True):
            if tuple(words[:len(s)]) == s and len(words) > len(s):
                words = words[len(s):]
                break
        return " ".join(words)

    def find(self, text: object) -> set[str]:
        return self.by_name.get(self.key(text), set())


def project_in_title(lines: Sequence[str], projects: Mapping[str, str] | None) -> str | None:
    """The stored project a title names ("BẢNG TỔNG HỢP … DỰ ÁN: Đường X"), by id or name."""
    if not projects or not lines:
        return None
    text = " " + " ".join(fold_words(" ".join(lines))) + " "
    hits = []
    for pid, name in projects.items():
        for candidate in (pid, name):
            words = " ".join(fold_words(str(candidate or "")))
            if len(words) >= 3 and f" {words} " in text:
                hits.append((len(words), pid))
    if not hits:
        return None
    hits.sort(reverse=True)
    best = [p for n, p in hits if n == hits[0][0]]
    return best[0] if len(set(best)) == 1 else None


def find_project(text: object, projects: Mapping[str, str] | None,
                 names: NameIndex | None) -> str | None:
    """A stored project id from an id or a name (None when unknown or ambiguous); without
    stored projects the text itself."""
    raw = str(text).strip()
    if projects is None:
        return raw or None
    if raw in projects:
        return raw
    if names is None:
        return None
    hits = names.find(raw)
    if len(hits) == 1:
        return next(iter(hits))
    label = re.sub(r"^\s*(du an|cong trinh)\s*:?\s*", "", " ".join(fold_words(raw)))
    hits = names.find(label)
    return next(iter(hits)) if len(hits) == 1 else None


def resolve_ward(value: object, stored: Mapping[str, str] | None,
                 names: NameIndex | None) -> tuple[str | None, str | None]:
    """A ward code from a code or a name; (code, None) or (None, the problem)."""
    code = normalise_ward_code(value)
    if code is not None and code.isdigit():
        if len(code) != 5:
            return None, f"{value!s} is not a ward code (5 digits)"
        if stored is not None and code not in stored:
            return None, f"ward {code} is not in the wards layer"
        return code, None
    if names is None:
        return None, (f"ward {value!s} is given by name but the store has no wards layer to "
                      "look it up; load the wards or use ward codes")
    hits = names.find(value)
    if len(hits) == 1:
        return next(iter(hits)), None
    if len(hits) > 1:
        return None, (f"ward name {value!s} is ambiguous: "
                      + ", ".join(f"{c} {stored.get(c, '')}" for c in sorted(hits)  # type: ignore[union-attr]
                                  ) + "; use the ward code")
    import difflib

    near = difflib.get_close_matches(names.key(value), list(names.by_name), n=3, cutoff=0.6)
    return None, (f"ward {value!s} is not in the wards layer"
                  + (f"; nearest: {', '.join(near)}" if near else ""))
