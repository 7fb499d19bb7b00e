"""The words boards write, matched to workflow steps, capital sources and total rows.

The vocabulary is data (``layers/sheets/vocabulary.yaml``, read by :mod:`gis.catalog`); this
module only matches. A cell is folded (no accents, lower case, punctuation to spaces), its
abbreviations expanded word by word, split into clauses ("Đã PD PA, chưa chi trả"), and each
clause matched to the step whose phrase has all its words in the clause, the most specific
(longest) phrase winning, so word order does not matter. A clause with a negation ("chưa",
"không", "đang") means the step *before* the one it names. The furthest positive clause wins;
a negative clause only caps it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gis.core.clearance.status import Status

__all__ = ["fold_words", "Vocabulary", "StatusMatch", "CAPITAL_UNKNOWN"]

CAPITAL_UNKNOWN = "UNKNOWN"
_PUNCT = re.compile(r"[^0-9a-z]+")


def fold_words(text: str) -> list[str]:
    """Words of ``text`` without accents, lower case, punctuation dropped.

    >>> fold_words("Đã BGMB (xong)!")
    ['da', 'bgmb', 'xong']
    """
    text = unicodedata.normalize("NFC", str(text)).replace("đ", "d").replace("Đ", "D")
    nfd = unicodedata.normalize("NFD", text)
    plain = "".join(c for c in nfd if not unicodedata.combining(c)).lower()
    return [w for w in _PUNCT.split(plain) if w]


@dataclass(frozen=True)
class StatusMatch:
    """What a status cell means: the step, or why not, and the nearest known wordings."""

    status: Status | None
    negated: bool = False
    nearest: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Phrase:
    words: frozenset[str]
    length: int
    status: Status


@dataclass
class Vocabulary:
    """Status phrases, abbreviations, negations, capital sources, total-row and state-owner words."""

    phrases: list[_Phrase]
    abbreviations: dict[str, list[str]]
    negations: list[tuple[str, ...]]
    separators: list[tuple[str, ...]]
    not_started: set[tuple[str, ...]]
    before: dict[Status, Status]
    capital: list[tuple[str, tuple[str, ...]]]
    totals: list[tuple[str, ...]]
    state_owners: list[tuple[str, ...]]
    labels: dict[str, Status] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Vocabulary:
        """Build from the YAML's mapping (see ``layers/sheets/vocabulary.yaml``)."""
        abbreviations = {"".join(fold_words(k)): fold_words(str(v))
                         for k, v in dict(data.get("abbreviations") or {}).items()}  # type: ignore[call-overload]
        statuses = dict(data.get("statuses") or {})  # type: ignore[call-overload]
        phrases: list[_Phrase] = []
        before: dict[Status, Status] = {}
        labels: dict[str, Status] = {}
        order = list(Status)
        for name, spec in statuses.items():
            status = Status(str(name))
            spec = dict(spec or {})
            words = [str(w) for w in spec.get("phrases", [])] + [status.label_vi]
            for phrase in words:
                expanded = _expand(fold_words(phrase), abbreviations)
                expanded = [w for w in expanded if w != "da"]
                if expanded:
                    phrases.append(_Phrase(frozenset(expanded), len(set(expanded)), status))
                    labels[" ".join(fold_words(phrase))] = status
            if spec.get("before"):
                before[status] = Status(str(spec["before"]))
            else:
                i = order.index(status)
                before[status] = order[max(i - 1, 0)]
        capital = []
        for code, words in dict(data.get("capital_sources") or {}).items():  # type: ignore[call-overload]
            capital += [(str(code), tuple(fold_words(str(w)))) for w in words]
        return cls(
            phrases=phrases, abbreviations=abbreviations,
            negations=[tuple(fold_words(str(w))) for w in data.get("negations", [])],  # type: ignore[attr-defined]
            separators=[tuple(fold_words(str(w))) for w in data.get("clause_separators", [])],  # type: ignore[attr-defined]
            not_started={tuple(fold_words(str(w))) for w in data.get("not_started", [])},  # type: ignore[attr-defined]
            before=before, capital=capital,
            totals=[tuple(fold_words(str(w))) for w in data.get("total_rows", [])],  # type: ignore[attr-defined]
            state_owners=[tuple(fold_words(str(w))) for w in data.get("state_owners", [])],  # type: ignore[attr-defined]
            labels=labels)

    # -- statuses -----------------------------------------------------------------------------
    def match_status(self, value: object) -> StatusMatch:
        """The step a status cell means; codes (``PAID``) are accepted as they are.

        >>> v = Vocabulary.from_mapping(_TEST_VOCAB)
        >>> v.match_status("Đã BGMB").status, v.match_status("chưa kiểm đếm").status
        (<Status.HANDED_OVER: 'HANDED_OVER'>, <Status.NOTIFIED: 'NOTIFIED'>)
        """
        if value is None or (isinstance(value, float) and value != value):
            return StatusMatch(None)
        text = str(value).strip()
        if not text:
            return StatusMatch(None)
        code = text.upper().replace(" ", "_")
        if code in Status.__members__:
            return StatusMatch(Status(code))
        words = fold_words(text)
        if tuple(words) in self.not_started or tuple(w for w in words if w != "da") in \
                self.not_started:
            return StatusMatch(Status.PLANNED, negated=True)
        best_positive: Status | None = None
        cap: Status | None = None
        for clause in self._clauses(words):
            negated, rest = self._strip_negation(clause)
            step = self._best(_expand(rest, self.abbreviations))
            if step is None:
                continue
            if negated:
                capped = self.before[step]
                cap = capped if cap is None or capped.rank < cap.rank else cap
            elif best_positive is None or step.rank > best_positive.rank:
                best_positive = step
        if best_positive is not None:
            if cap is not None and cap.rank < best_positive.rank:
                # "Đã chi trả, chưa kiểm đếm" contradicts itself: say what it says first
                return StatusMatch(None, nearest=self.nearest(text))
            return StatusMatch(best_positive)
        if cap is not None:
            return StatusMatch(cap, negated=True)
        return StatusMatch(None, nearest=self.nearest(text))

    def _clauses(self, words: list[str]) -> list[list[str]]:
        # the separators ",;/" are gone after folding, so split on the words the YAML lists and
        # on a negation that follows other words ("đã phê duyệt chưa chi trả")
        clauses: list[list[str]] = [[]]
        i = 0
        while i < len(words):
            sep = next((s for s in self.separators if tuple(words[i:i + len(s)]) == s), None)
            if sep is not None and clauses[-1]:
                clauses.append([])
                i += len(sep)
                continue
            neg = next((n for n in self.negations if tuple(words[i:i + len(n)]) == n), None)
            if neg is not None and clauses[-1] and any(w != "da" for w in clauses[-1]):
                clauses.append([])
            clauses[-1].append(words[i])
            i += 1
        return [c for c in clauses if c]

    def _strip_negation(self, clause: list[str]) -> tuple[bool, list[str]]:
        for neg in sorted(self.negations, key=len, reverse=True):
            if tuple(clause[:len(neg)]) == neg:
                return True, clause[len(neg):]
        return False, clause

    def _best(self, words: list[str]) -> Status | None:
        have = set(words)
        best: _Phrase | None = None
        for phrase in self.phrases:
            if phrase.words <= have and (best is None or phrase.length > best.length or (
                    phrase.length == best.length and phrase.status.rank > best.status.rank)):
                best = phrase
        return best.status if best else None

    def nearest(self, text: str, n: int = 3) -> tuple[str, ...]:
        """The known steps whose wording is closest to ``text`` (Vietnamese labels)."""
        folded = " ".join(_expand(fold_words(text), self.abbreviations))
        close = difflib.get_close_matches(folded, list(self.labels), n=12, cutoff=0.0)
        out: list[str] = []
        for c in close:
            label = self.labels[c].label_vi
            if label not in out:
                out.append(label)
        return tuple(out[:n])

    # -- capital sources, totals, owners -------------------------------------------------------
    def capital_source(self, value: object) -> str | None:
        """STATE_BUDGET / NON_BUDGET / UNKNOWN for a written capital source; None when empty.

        >>> v = Vocabulary.from_mapping(_TEST_VOCAB)
        >>> [v.capital_source(s) for s in ("Ngân sách thành phố", "Vốn ngoài ngân sách", "XHH", "?")]
        ['STATE_BUDGET', 'NON_BUDGET', 'NON_BUDGET', 'UNKNOWN']
        """
        if value is None or (isinstance(value, float) and value != value):
            return None
        words = fold_words(str(value))
        if not words:
            return None
        joined = "".join(words)
        for code in ("NON_BUDGET", "STATE_BUDGET"):
            if joined in (code.lower().replace("_", ""), code.lower()):
                return code
        for code, phrase in self.capital:
            if code == "NON_BUDGET" and _contains(words, phrase):
                return code
        for code, phrase in self.capital:
            if code == "STATE_BUDGET" and _contains(words, phrase):
                return code
        return CAPITAL_UNKNOWN

    def is_total(self, value: object) -> bool:
        """True when a cell starts a total or subtotal row ("Tổng cộng", "Cộng phường …")."""
        if value is None or not isinstance(value, str):
            return False
        words = fold_words(value)
        return any(tuple(words[:len(t)]) == t for t in self.totals if t)

    def is_state_owner(self, value: object) -> bool:
        """True for land users that are the state (commune People's Committee, a state body)."""
        if value is None or not isinstance(value, str):
            return False
        words = fold_words(value)
        return any(_contains(words, t) for t in self.state_owners if t)


def _contains(words: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(tuple(words[i:i + n]) == tuple(phrase) for i in range(len(words) - n + 1))


def _expand(words: list[str], abbreviations: Mapping[str, list[str]]) -> list[str]:
    out: list[str] = []
    for w in words:
        out.extend(abbreviations.get(w, [w]))
    return out


# a small vocabulary for the doctests (the real one is the YAML)
_TEST_VOCAB: dict[str, object] = {
    "abbreviations": {"bgmb": "bàn giao mặt bằng"},
    "negations": ["chưa"],
    "statuses": {"NOTIFIED": {"phrases": ["thông báo"]},
                 "INVENTORIED": {"phrases": ["kiểm đếm"]},
                 "HANDED_OVER": {"phrases": ["bàn giao mặt bằng"]}},
    "capital_sources": {"NON_BUDGET": ["ngoài ngân sách", "xhh"],
                        "STATE_BUDGET": ["ngân sách"]},
}
