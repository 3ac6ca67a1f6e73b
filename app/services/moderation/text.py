"""Reading a prompt the way an evader hopes a filter will not: the spellings moderation matches against.

`normalise` undoes the usual tricks — case, fullwidth and mathematical letters, accents and combining marks,
zero-width characters, Cyrillic/Greek look-alikes, leetspeak, and letters split by spaces or punctuation — and
returns *readings*: token sequences in which every token is a small set of candidate spellings. Ambiguity is
kept rather than guessed away ("1" may be "i" or "l", a Cyrillic "н" may be read as "h" or as "n"), so the
matcher asks "could this token be that word?". Repeated letters ("fuuuck") are handled by the matcher, which
compares run-length encodings (see `rle`), so no reading has to collapse them.
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal, NamedTuple

from unidecode import unidecode

from app.errors import ValidationFailed

MAX_TEXT_CHARS = 5000  # prompt + negative prompt + style template fit easily; bounds the work per check
MAX_SPELLINGS = 24  # candidate spellings kept per token: bounds the work on a token full of ambiguous characters

# Leetspeak. A digit keeps its literal reading too (terms such as "1girl" contain digits).
LEET_DIGITS: dict[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("i", "l"), "3": ("e",), "4": ("a",), "5": ("s",), "6": ("g", "b"), "7": ("t",),
    "8": ("b",), "9": ("g",),
}
# Symbols read as letters. They are also ordinary punctuation ("nude!", "a|b"), so every text is read twice:
# once with these as letters and once with them as separators. "*" stands for a masked vowel ("f*ck", "n*de").
LEET_SYMBOLS: dict[str, tuple[str, ...]] = {
    "@": ("a",), "$": ("s",), "!": ("i", "l"), "|": ("l", "i"), "*": ("a", "e", "i", "o", "u"),
    "€": ("e",), "£": ("l",), "¢": ("c",), "§": ("s",), "¥": ("y",),
}
# Characters that render as blank but are not Unicode whitespace (Hangul fillers, the blank Braille cell):
# treated as spaces so "n<blank>u<blank>d<blank>e" is read like "n u d e".
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


class Unit(NamedTuple):
    """One character of a token: what it may be read as."""

    kind: Literal["letter", "digit", "symbol"]
    options: tuple[str, ...]  # ASCII readings, most likely first (a digit's literal reading comes last)
    literal: str  # the character itself (ASCII digit or symbol; a letter's first option)


Token = tuple[Unit, ...]
_SPACE, _PUNCT = " ", "."  # the two kinds of gap between tokens


@dataclass(frozen=True)
class Normalised:
    """A text's readings: token sequences whose tokens are sets of candidate spellings."""

    text: str  # the most likely reading, tokens joined by spaces (for logs and debugging)
    readings: tuple[tuple[frozenset[str], ...], ...]

    def spellings(self) -> frozenset[str]:
        """Every candidate spelling of every token in every reading."""
        return frozenset(s for reading in self.readings for token in reading for s in token)


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) not in ("Mn", "Me"))


@cache
def _confusables() -> dict[str, list[dict[str, str]]]:
    # Unicode's confusables table (via confusable-homoglyphs): ~9,600 characters, loaded on first use only.
    from confusable_homoglyphs.confusables import confusables_data

    return confusables_data


def _look_alike(char: str) -> str:
    """The ASCII letter `char` is drawn like, per Unicode's confusables table ("" when none)."""
    data = _confusables()
    # Lower-case Cyrillic letters such as "н" or "к" are listed only through their capitals ("Н" → "H").
    upper = char.upper()
    for source in (char, upper if len(upper) == 1 else ""):
        for glyph in data.get(source, ()) if source else ():
            ascii_form = _strip_marks(glyph["c"])  # some entries are a letter plus a combining mark ("o̸")
            if len(ascii_form) == 1 and ascii_form.isascii() and ascii_form.isalpha():
                return ascii_form.lower()
    return ""


@lru_cache(maxsize=4096)
def glyph_options(char: str) -> tuple[str, ...]:
    """ASCII readings of a non-ASCII character: how it looks, then how it transliterates; () for none."""
    visual = _look_alike(char)
    translit = "".join(c for c in unidecode(char).lower() if c.isascii() and c.isalnum())
    return tuple(dict.fromkeys(o for o in (visual, translit) if o))


def _clean(text: str) -> str:
    # NFKC folds fullwidth, mathematical, circled and ligature letters to plain ones; format characters
    # (zero-width space/joiners, soft hyphen, bidi controls, tag characters) vanish; combining marks go with
    # NFD, which turns accented letters and "zalgo" text back into their base letters.
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return _strip_marks(text)


def _unit(char: str) -> Unit | str:
    """A character as a token unit, or the gap it makes (_SPACE or _PUNCT)."""
    if char.isspace() or char in _BLANKS or unicodedata.category(char) == "Cc":
        return _SPACE
    if char.isascii():
        if char.isalpha():
            return Unit("letter", (char.lower(),), char.lower())
        if char.isdigit():
            return Unit("digit", (*LEET_DIGITS.get(char, ()), char), char)
    if char in LEET_SYMBOLS:
        return Unit("symbol", LEET_SYMBOLS[char], char)
    if char.isascii():
        return _PUNCT
    options = glyph_options(char)
    return Unit("letter", options, options[0]) if options else _PUNCT


def _tokens(items: list[Unit | str], *, symbols_are_letters: bool) -> list[tuple[Token, str]]:
    """(token, the gap before it) pairs; the gap is _SPACE when any whitespace separates it from the last."""
    out: list[tuple[Token, str]] = []
    current: list[Unit] = []
    gap = _SPACE
    for item in items:
        if isinstance(item, Unit) and (item.kind != "symbol" or symbols_are_letters):
            current.append(item)
            continue
        # A gap, or a symbol read as punctuation, ends the current token.
        if current:
            out.append((tuple(current), gap))
            current, gap = [], _PUNCT
        if item == _SPACE:
            gap = _SPACE
    if current:
        out.append((tuple(current), gap))
    return out


def _join_single_letters(tokens: list[tuple[Token, str]], *, keep_first: bool, keep_last: bool) -> list[Token]:
    """Runs of one-character tokens joined into one ("s e x", "n.u.d.e").

    Only such runs are joined: joining ordinary neighbouring words ("pen island") would invent words nobody
    wrote. `keep_first`/`keep_last` leave a run's edge letter apart, since it is often a real one-letter word
    ("a n u d e woman", "i k i l l myself").
    """
    out: list[Token] = []
    run: list[Token] = []

    def flush() -> None:
        head = run[:1] if keep_first and len(run) > 2 else []
        tail = run[-1:] if keep_last and len(run) > 2 + len(head) else []
        middle = run[len(head):len(run) - len(tail)]
        out.extend(head)
        out.append(tuple(u for t in middle for u in t))
        out.extend(tail)
        run.clear()

    for token, _gap in tokens:
        if len(token) == 1:
            run.append(token)
            continue
        if run:
            flush()
        out.append(token)
    if run:
        flush()
    return out


def _glue(tokens: list[tuple[Token, str]]) -> list[Token]:
    # Pieces separated by punctuation but no space are one word in disguise ("nu-de", "por.n", "s_e_x").
    out: list[Token] = []
    for token, gap in tokens:
        if out and gap == _PUNCT:
            out[-1] = out[-1] + token
        else:
            out.append(token)
    return out


def _spellings(token: Token) -> frozenset[str]:
    if not any(u.kind == "letter" for u in token):
        # A number is a number ("1080", "4 5"): reading it as letters would only invent words.
        return frozenset({"".join(u.literal for u in token if u.kind == "digit")} - {""})
    return frozenset("".join(parts) for parts in itertools.islice(
        itertools.product(*(u.options for u in token)), MAX_SPELLINGS))


def normalise(text: str) -> Normalised:
    """The readings of `text` after undoing case, look-alike, leetspeak, invisible-character and spacing tricks.

    Raises ValidationFailed for a text longer than MAX_TEXT_CHARS.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationFailed(f"The text to check is limited to {MAX_TEXT_CHARS} characters; shorten it.",
                               code="text_too_long")
    items = [_unit(c) for c in _clean(text)]
    cache: dict[Token, frozenset[str]] = {}
    readings: dict[tuple[frozenset[str], ...], None] = {}  # ordered and without duplicates
    for symbols_are_letters in (False, True):
        tokens = _tokens(items, symbols_are_letters=symbols_are_letters)
        joined = [_join_single_letters(tokens, keep_first=first, keep_last=last)
                  for first in (False, True) for last in (False, True)]
        for sequence in ([t for t, _ in tokens], *joined, _glue(tokens)):
            for token in sequence:
                if token not in cache:
                    cache[token] = _spellings(token)
            readings.setdefault(tuple(cache[t] for t in sequence if cache[t]), None)
    first = [t for t, _ in _tokens(items, symbols_are_letters=False)]
    shown = " ".join("".join(u.options[0] for u in t) for t in first)
    return Normalised(text=shown, readings=tuple(readings))


def plain_words(text: str) -> list[str]:
    """A denylist term or reason as lower-case ASCII words: no leetspeak or look-alike reading (terms are
    written plainly by an admin, and may contain digits, e.g. "1girl")."""
    cleaned = unidecode(_clean(text)).casefold()
    words, current = [], []
    for char in cleaned:
        if char.isascii() and char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


@lru_cache(maxsize=65536)
def rle(word: str) -> tuple[str, tuple[int, ...]]:
    """Run-length encoding: ("fuuuck" → ("fuck", (1, 3, 1, 1)))."""
    key = [k for k, _ in itertools.groupby(word)]
    runs = tuple(len(list(g)) for _, g in itertools.groupby(word))
    return "".join(key), runs


def runs_match(token_runs: tuple[int, ...], term_runs: tuple[int, ...]) -> bool:
    """True when a token is the term with letters repeated for effect ("fuuuck", "seeex").

    Every run must have the term's length, or be drawn out to 3 or more: a doubled letter alone does not
    count, since it changes one real word into another ("raping"/"rapping", "niger"/"nigger", "bob"/"boob").
    """
    return all(t == r or (t >= 3 and t >= r) for t, r in zip(token_runs, term_runs, strict=True))
