"""Prompt moderation with an admin-editable denylist, matched on whole words after normalisation.

A `DenylistEntry` is one rule. Its `kind` says how `term` is matched against a prompt's readings
(see `app.services.moderation.text.normalise`):

- "word": one word, on token boundaries, with simple inflections (-s, -es, -ing, -ed; "rape" → "raped",
  "raping"), so "Scunthorpe", "Sussex" and "therapist" stay clear of "cunt", "sex" and "rapist".
- "phrase": consecutive words, the last one inflected ("suicide method" → "suicide methods"); also matched
  written as one word ("blow job" → "blowjob").
- "substring": matched inside words; for long, unambiguous stems only ("pedophil", "porn").
- "combo": words that are fine alone but not together: groups joined by "+", alternatives by "|", and an
  optional "~N" for how many words apart they may be (default 8): "child|kid|minor + nude|naked ~20".

`check_text` returns a `Decision`: the user sees `reason` (which names the category and never echoes the
term), the admin log gets `matched`. Entries are plain data: `as_dict()` / `from_dict()` round-trip
through JSON or the `denylist_term` table (term, kind, category, reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from app.errors import ValidationFailed
from app.services.moderation.defaults import DEFAULT_TERMS
from app.services.moderation.text import (
    normalise,
    plain_words,
    rle,
    runs_match,
)

KINDS = ("word", "phrase", "substring", "combo")
# Most severe first: when several entries match, the decision reports the most severe category.
CATEGORIES = ("minors", "sexual", "self-harm", "hate", "violence", "illegal", "harassment", "other")
DEFAULT_COMBO_WINDOW = 8
MAX_COMBO_WINDOW = 60
MAX_TERM_CHARS = 200  # the denylist_term.term column
MAX_REASON_CHARS = 200  # the denylist_term.reason column
MIN_SUBSTRING_CHARS = 4  # shorter stems hide inside too many innocent words ("ass" in "class")

PROMPT_REASONS = {
    "minors": "Your prompt combines minors with sexual or suggestive content, which is never allowed.",
    "sexual": "Your prompt asks for sexual or explicit content, which this studio does not create.",
    "self-harm": "Your prompt refers to self-harm or suicide, which this studio does not depict. "
                 "If you are struggling, please reach out to someone you trust or a local crisis line.",
    "hate": "Your prompt contains hateful language or symbols, which are not allowed.",
    "violence": "Your prompt asks for graphic violence or gore, which this studio does not create.",
    "illegal": "Your prompt asks for weapons-making or other illegal instructions, which are not allowed.",
    "harassment": "Your prompt contains harassing or threatening language, which is not allowed.",
    "other": "Your prompt contains a term this studio does not allow.",
}
IMAGE_REASONS = {
    "minors": "The generated image was withheld: it may show minors in a sexual or suggestive way.",
    "sexual": "The generated image was withheld: it appears to contain sexual or explicit content.",
    "self-harm": "The generated image was withheld: it appears to depict self-harm.",
    "hate": "The generated image was withheld: it appears to contain hateful symbols or content.",
    "violence": "The generated image was withheld: it appears to contain graphic violence.",
    "illegal": "The generated image was withheld: it appears to show illegal activity.",
    "harassment": "The generated image was withheld: it appears to contain harassing content.",
    "other": "The generated image was withheld by moderation.",
}


@dataclass(frozen=True)
class Decision:
    """The outcome of one moderation check. JSON-safe through `as_dict()`."""

    allowed: bool
    source: str  # "denylist" | "ai" | "ai_unavailable"
    category: str = ""  # one of CATEGORIES when refused for content; "" when allowed or on an outage
    reason: str = ""  # for the user: names the category, never the matched term
    matched: str = ""  # for the admin log: the denylist term, the AI's flagged scores, or the outage error
    scores: Mapping[str, float] = field(default_factory=dict)  # the AI's category scores, as it named them
    error_code: str = ""  # a ProviderError code when the AI check could not run (timeout, rate_limited, …)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "scores": dict(self.scores)}


ALLOWED = Decision(allowed=True, source="denylist")


def reason_for(category: str, *, surface: str = "prompt") -> str:
    """The user-facing sentence for a refused category; `surface` is "prompt" or "image"."""
    reasons = IMAGE_REASONS if surface == "image" else PROMPT_REASONS
    return reasons.get(category, reasons["other"])


def _combo_parts(term: str) -> tuple[list[list[list[str]]], int]:
    """A combo term as groups of alternatives (each a list of words) and its window."""
    window = DEFAULT_COMBO_WINDOW
    found = re.search(r"~\s*(\d+)\s*$", term)
    if found:
        window, term = int(found.group(1)), term[:found.start()]
    groups = [[plain_words(alt) for alt in group.split("|")] for group in term.split("+")]
    return [[alt for alt in group if alt] for group in groups], window


@dataclass(frozen=True)
class DenylistEntry:
    """One denylist rule. Validated and put in canonical form on creation (raises ValidationFailed)."""

    term: str
    kind: str = "word"  # one of KINDS
    category: str = "other"  # one of CATEGORIES
    reason: str = ""  # shown to users instead of the category's sentence; "" for the category's sentence

    def __post_init__(self) -> None:
        def refuse(message: str) -> ValidationFailed:
            return ValidationFailed(message, code="invalid_denylist_entry")

        if self.kind not in KINDS:
            raise refuse(f"Kind must be one of: {', '.join(KINDS)}.")
        if self.category not in CATEGORIES:
            raise refuse(f"Category must be one of: {', '.join(CATEGORIES)}.")
        if len(self.term) > MAX_TERM_CHARS or len(self.reason) > MAX_REASON_CHARS:
            raise refuse(f"Terms and reasons are limited to {MAX_TERM_CHARS} characters.")
        if self.kind == "combo":
            groups, window = _combo_parts(self.term)
            if len(groups) < 2 or not all(groups):
                raise refuse("A combo needs at least two groups joined by '+', e.g. 'child|kid + nude|naked ~20'.")
            if not 1 <= window <= MAX_COMBO_WINDOW:
                raise refuse(f"A combo's '~N' window must be between 1 and {MAX_COMBO_WINDOW} words.")
            canonical = " + ".join("|".join(" ".join(alt) for alt in group) for group in groups)
            canonical += f" ~{window}" if window != DEFAULT_COMBO_WINDOW else ""
        else:
            words = plain_words(self.term)
            if not words:
                raise refuse("A term needs at least one letter or digit.")
            if self.kind == "word" and len(words) > 1:
                raise refuse("A 'word' entry is a single word; use kind 'phrase' for several words.")
            if self.kind == "substring" and len("".join(words)) < MIN_SUBSTRING_CHARS:
                raise refuse(f"A substring needs at least {MIN_SUBSTRING_CHARS} letters: shorter ones hide "
                             "inside innocent words. Use kind 'word' instead.")
            canonical = "".join(words) if self.kind == "substring" else " ".join(words)
        object.__setattr__(self, "term", canonical)
        object.__setattr__(self, "reason", " ".join(self.reason.split()))

    def as_dict(self) -> dict[str, str]:
        return {"term": self.term, "kind": self.kind, "category": self.category, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DenylistEntry:
        """An entry from `as_dict()` output or a `denylist_term` row's fields (extra keys are ignored)."""
        return cls(term=str(data.get("term", "")), kind=str(data.get("kind") or "word"),
                   category=str(data.get("category") or "other"), reason=str(data.get("reason") or ""))

    def user_reason(self) -> str:
        """The admin's reason, unless it would echo the term to the user; else the category's sentence."""
        term_words = {w for w in plain_words(self.term.split("~")[0]) if len(w) >= 3}
        if self.reason and not term_words & set(plain_words(self.reason)):
            return self.reason
        return reason_for(self.category)


DEFAULT_DENYLIST: list[DenylistEntry] = [DenylistEntry(*row) for row in DEFAULT_TERMS]


def inflections(word: str) -> set[str]:
    """A word and its regular plural and verb forms ("rape" → rapes, raped, raping)."""
    if len(word) < 3 or not word.isalpha():
        return {word}
    forms = {word, word + "s", word + "es", word + "ing", word + "ed"}
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    if word.endswith("y") and word[-2] not in "aeiou":
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return forms


# A set of spellings indexed for matching: run-length key → the term's run lengths.
FormSet = dict[str, list[tuple[int, ...]]]
Pattern = tuple[FormSet, ...]  # consecutive words


def _forms(spellings: Iterable[str]) -> FormSet:
    out: FormSet = {}
    for spelling in spellings:
        key, runs = rle(spelling)
        out.setdefault(key, []).append(runs)
    return out


def _pattern(words: list[str]) -> Pattern:
    return tuple(_forms(inflections(w) if i == len(words) - 1 else {w}) for i, w in enumerate(words))


@dataclass
class CompiledDenylist:
    """A denylist prepared for matching; build with `compile_denylist` (cached)."""

    entries: tuple[DenylistEntry, ...]
    words: dict[str, list[tuple[tuple[int, ...], int]]] = field(default_factory=dict)  # key → (runs, entry)
    phrases: list[tuple[Pattern, int]] = field(default_factory=list)
    substrings: list[tuple[re.Pattern[str], int]] = field(default_factory=list)
    combos: list[tuple[list[list[Pattern]], int, int]] = field(default_factory=list)  # groups, window, entry


@lru_cache(maxsize=8)
def _compile(entries: tuple[DenylistEntry, ...]) -> CompiledDenylist:
    compiled = CompiledDenylist(entries=entries)

    def add_word(spellings: Iterable[str], index: int) -> None:
        for key, runs_list in _forms(spellings).items():
            compiled.words.setdefault(key, []).extend((runs, index) for runs in runs_list)

    for index, entry in enumerate(entries):
        if entry.kind == "word":
            add_word(inflections(entry.term), index)
        elif entry.kind == "phrase":
            words = entry.term.split()
            compiled.phrases.append((_pattern(words), index))
            # Written as one word too: "blow job" → "blowjob", "blowjobs".
            add_word(inflections("".join(words)), index)
        elif entry.kind == "substring":
            # Each run of a letter may be drawn out ("poorn"); substrings are long, so this stays precise.
            body = "".join(f"{re.escape(k)}{{{n},}}" for k, n in zip(*rle(entry.term), strict=True))
            compiled.substrings.append((re.compile(body), index))
        else:
            groups, window = _combo_parts(entry.term)
            compiled.combos.append(([[_pattern(alt) for alt in group] for group in groups], window, index))
    return compiled


def compile_denylist(entries: Sequence[DenylistEntry]) -> CompiledDenylist:
    """The denylist prepared for matching; the last few lists compiled are cached."""
    return _compile(tuple(entries))


Reading = tuple[frozenset[str], ...]
# Per reading: run-length key → [(token position, the token's run lengths)].
ReadingIndex = dict[str, list[tuple[int, tuple[int, ...]]]]


def _index(reading: Reading) -> ReadingIndex:
    index: ReadingIndex = {}
    for position, spellings in enumerate(reading):
        for spelling in spellings:
            key, runs = rle(spelling)
            index.setdefault(key, []).append((position, runs))
    return index


def _token_is(spellings: frozenset[str], forms: FormSet) -> bool:
    for spelling in spellings:
        key, runs = rle(spelling)
        if any(runs_match(runs, term_runs) for term_runs in forms.get(key, ())):
            return True
    return False


def _positions(pattern: Pattern, reading: Reading, index: ReadingIndex) -> set[int]:
    """Where in `reading` the consecutive words of `pattern` start."""
    found = set()
    for key, term_runs_list in pattern[0].items():
        for position, runs in index.get(key, ()):
            if position in found or position + len(pattern) > len(reading):
                continue
            if any(runs_match(runs, term_runs) for term_runs in term_runs_list) and all(
                    _token_is(reading[position + k], pattern[k]) for k in range(1, len(pattern))):
                found.add(position)
    return found


def _combo_matches(groups: list[list[Pattern]], window: int, reading: Reading, index: ReadingIndex) -> bool:
    """True when every group has a match and all of them fit within `window` words."""
    events = sorted((p, g) for g, alternatives in enumerate(groups) for alt in alternatives
                    for p in _positions(alt, reading, index))
    if len({g for _, g in events}) < len(groups):
        return False
    counts = [0] * len(groups)
    start = 0
    for position, group in events:  # sliding window over positions
        counts[group] += 1
        while events[start][0] < position - window:
            counts[events[start][1]] -= 1
            start += 1
        if all(counts):
            return True
    return False


def find_matches(text: str, *, entries: Sequence[DenylistEntry]) -> list[DenylistEntry]:
    """Every entry that matches `text`, most severe category first (for the admin's "test a prompt" tool)."""
    compiled = compile_denylist(entries)
    hits: set[int] = set()
    for reading in normalise(text).readings:
        index = _index(reading)
        for key, token_runs in index.items():
            for _position, runs in token_runs:
                hits.update(i for term_runs, i in compiled.words.get(key, ()) if runs_match(runs, term_runs))
        hits.update(i for pattern, i in compiled.phrases if i not in hits and _positions(pattern, reading, index))
        if compiled.substrings:
            spellings = {s for token in reading for s in token}
            hits.update(i for regex, i in compiled.substrings
                        if i not in hits and any(regex.search(s) for s in spellings))
        hits.update(i for groups, window, i in compiled.combos
                    if i not in hits and _combo_matches(groups, window, reading, index))
    order = sorted(hits, key=lambda i: (CATEGORIES.index(compiled.entries[i].category), i))
    return [compiled.entries[i] for i in order]


def check_text(text: str, *, entries: Sequence[DenylistEntry]) -> Decision:
    """Whether `text` passes the denylist; a refusal names the most severe category that matched.

    Raises ValidationFailed for a text longer than moderation_text.MAX_TEXT_CHARS.
    """
    matches = find_matches(text, entries=entries)
    if not matches:
        return ALLOWED
    entry = matches[0]
    return Decision(allowed=False, source="denylist", category=entry.category, reason=entry.user_reason(),
                    matched=f"{entry.kind}: {entry.term}"[:MAX_TERM_CHARS])


class TextModerator(Protocol):
    """Anything with an AI `check_text`, e.g. `app.services.moderation.ai.OpenAIModeration`."""

    def check_text(self, text: str) -> Decision: ...


def check_prompt(text: str, *, entries: Sequence[DenylistEntry], ai: TextModerator | None = None) -> Decision:
    """The denylist first (free, instant), then the AI check when one is configured."""
    decision = check_text(text, entries=entries)
    if not decision.allowed or ai is None or not text.strip():
        return decision
    return ai.check_text(text)
