"""File-name rules for the bulk renamer: structured fields in, safe SEO-friendly names out.

Names are composed by code, never by a model, so the same fields always give the same name.
Every composed name is ASCII, starts with a letter or digit, holds only letters, digits, `-` and `_`,
fits the length limit and is never a Windows device name.

A name someone types in the review is theirs: it keeps its letters (any script), case, spaces and punctuation,
and loses only what a file name cannot hold (`typed_stem`); the batch's case style and length limit are for
the names the code composes.
"""

from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

TOKENS = ("keywords", "subject", "detail", "color", "date", "camera", "place", "index")
DEFAULT_TEMPLATE = "{keywords}-{subject}-{detail}"
CASES = ("kebab", "snake", "camel", "title")
# Title case keeps the hyphen: spaces become %20 in URLs, and hyphens read as word breaks to search engines.
_JOINERS = {"kebab": "-", "snake": "_", "camel": "", "title": "-"}
FALLBACK = "image"
MIN_LENGTH = 10  # room for a reserved name plus its suffix ("com1-image")
MAX_LENGTH = 200  # file systems allow 255 bytes; leave room for the suffix and extension

STOP_WORDS = frozenset(
    "a an the of and or but nor with without in on at for to by from into onto upon as is are was were be been "
    "this that these those it its my our your their his her some very".split()
)
# Words that carry no meaning alone: never a tag, never a word read from a photo. Wider than STOP_WORDS,
# which only thins names ("house of cards" keeps its "of" in a tag but not in a name).
FUNCTION_WORDS = STOP_WORDS | frozenset(
    "not no yes so if then than too also just can will would could should may might must do does did done has "
    "have had having he she him we you they them me us i what which who whom whose where when why how all any "
    "each both few more most other such only own same here there about above after again against below between "
    "during over under out up down off am via per etc".split()
)
# Windows refuses these as file names whatever the case or extension (COM0/LPT0 included since Windows 11).
RESERVED = frozenset({"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)})

# What no file name may hold on a system people download to: Windows' reserved characters, control characters
# (and / everywhere), and the bidi controls that make "gpj.exe" read as "exe.jpg".
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u202a-\u202e\u2066-\u2069]+')
_EDGES = re.compile(r"^[.\s-]+|[.\s]+$")
TYPED_MAX_CHARS = 200
TYPED_MAX_BYTES = 240  # file systems hold 255 bytes (UTF-8): room left for a "-12" suffix and ".heic"

_TOKEN_RE = re.compile(r"\{([^{}]*)\}")
_WORD_RE = re.compile(r"[a-z0-9]+")
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")


def validate_template(template: str) -> list[str]:
    """The tokens of a name template, in order; a ValueError people can act on when it is wrong."""
    if not template or not template.strip():
        raise ValueError("The name template is empty; use tokens such as {subject} or {keywords}.")
    if len(template) > MAX_LENGTH:
        raise ValueError(f"The name template is longer than {MAX_LENGTH} characters.")
    tokens = _TOKEN_RE.findall(template)
    unknown = [t for t in tokens if t not in TOKENS]
    if unknown:
        allowed = ", ".join("{" + t + "}" for t in TOKENS)
        raise ValueError(f"Unknown token {{{unknown[0]}}} in the name template; use {allowed}.")
    if "{" in _TOKEN_RE.sub("", template) or "}" in _TOKEN_RE.sub("", template):
        raise ValueError("The name template has an unmatched '{' or '}'.")
    if not tokens:
        raise ValueError("The name template has no token, so every file would get the same name.")
    return tokens


def ascii_words(text: str) -> list[str]:
    """Lower-case ASCII words of any text: transliterated (é→e, ß→ss, 北京→bei jing), split on the rest."""
    text = _APOSTROPHES.sub("", unidecode(_APOSTROPHES.sub("", text or "")))  # "Dad's" → "dads", not "dad s"
    return _WORD_RE.findall(text.lower())


def _field_words(value: str) -> list[str]:
    words = ascii_words(value)
    kept = [w for w in words if w not in STOP_WORDS]
    return kept or words  # a value made only of stop-words ("The The") keeps them rather than vanish


def _value(fields: dict[str, str], token: str) -> str:
    # Bounded: a pasted essay must not make transliteration slow; far more than any name can hold.
    return str(fields.get(token) or "")[: MAX_LENGTH * 5]


def _join(words: list[str], case: str) -> str:
    if case == "camel":
        return "".join(w if i == 0 else w.capitalize() for i, w in enumerate(words))
    if case == "title":
        return "-".join(w.capitalize() for w in words)
    return _JOINERS[case].join(words)


def _guard(stem: str, case: str) -> str:
    """Never empty, hidden, dash-led (a shell reads "-rf" as options) or a device name (CON, com1…), even for
    stems built elsewhere."""
    stem = stem.lstrip(".- ") or _join([FALLBACK], case)
    if stem.lower() in RESERVED:
        stem = _join([stem.lower(), FALLBACK], case)
    return stem


def _safe(stem: str) -> str:
    """A stem someone may have typed (the review grid lets people edit names) made safe, case kept."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", unidecode(_APOSTROPHES.sub("", stem or ""))).strip("-_")[:MAX_LENGTH]


def file_safe(stem: str) -> str:
    """`stem` as a file name can hold it, otherwise as it is: letters of any script, case, spaces and punctuation
    stay; a run of characters no file name may hold becomes one "-", white space one space, and leading dots,
    dashes and spaces and trailing dots and spaces go (a leading dot hides the file, a shell reads "-rf" as
    options, Windows drops trailing ones)."""
    stem = " ".join(unicodedata.normalize("NFC", stem or "").split())
    return _EDGES.sub("", _UNSAFE.sub("-", stem))


def typed_stem(text: str) -> str:
    """A name someone typed, as a file stem: `file_safe`, without an image extension typed after it (the file's
    own type gives the extension). A ValueError in words when nothing is left, when Windows reserves the name,
    or when it is too long for a file name: those are refused, never replaced."""
    stem = file_safe(_KNOWN_EXT.sub("", (text or "").strip()))
    if not stem:
        raise ValueError("A file name cannot be empty. Type a name, or use Regenerate for a new suggestion.")
    if stem.split(".")[0].strip().lower() in RESERVED:
        raise ValueError(f"“{stem}” is a name Windows keeps for a device; choose another.")
    if len(stem) > TYPED_MAX_CHARS:
        raise ValueError(f"That name has {len(stem)} characters; a file name holds at most {TYPED_MAX_CHARS}.")
    if len(stem.encode()) > TYPED_MAX_BYTES:
        raise ValueError("That name is too long for a file name (letters beyond A to Z take more room); "
                         "shorten it.")
    return stem


def typed_name_notice(typed: str, saved: str) -> str:
    """What the saved file name changed from what was typed, in words; "" when it is what was typed."""
    typed = (typed or "").strip()
    want, saved_stem = file_safe(_KNOWN_EXT.sub("", typed)), saved.rsplit(".", 1)[0]
    reasons = []
    if want != " ".join(_KNOWN_EXT.sub("", typed).split()):
        reasons.append('file names cannot hold / \\ : * ? " < > | or control characters, start with a dot or '
                       "a dash, or end with a dot")
    if saved_stem != want:
        reasons.append("another image in this batch already has that name")
    typed_ext = _KNOWN_EXT.search(typed)
    if typed_ext and normalise_extension(typed_ext[1]) != "." + saved.rsplit(".", 1)[-1]:
        reasons.append("the extension follows the file's own type")
    return f"Saved as “{saved}”: {'; '.join(reasons)}." if reasons else ""


def _check_case(case: str) -> None:
    if case not in CASES:
        raise ValueError(f"Unknown case style {case!r}; use one of {', '.join(CASES)}.")


def compose_name(fields: dict[str, str], *, template: str = DEFAULT_TEMPLATE, case: str = "kebab",
                 max_length: int = 60, index: int = 1) -> str:
    """A file stem (no extension) from structured fields, following the template and case style.

    Empty tokens vanish with their separators. Stop-words and repeated words are dropped from field
    values (words written into the template itself are the user's choice and stay). The name is cut on
    a word boundary; the `{index}` token survives the cut so numbered names stay numbered.
    """
    _check_case(case)
    if not MIN_LENGTH <= max_length <= MAX_LENGTH:
        raise ValueError(f"The name length limit must be between {MIN_LENGTH} and {MAX_LENGTH}.")
    validate_template(template)
    # Units are words, or word groups that must stay whole (a date); `keep` marks units that survive cuts.
    units: list[tuple[tuple[str, ...], bool]] = []
    seen: set[str] = set()
    pos = 0
    for match in _TOKEN_RE.finditer(template):
        units += [((w,), False) for w in ascii_words(template[pos:match.start()])]
        pos = match.end()
        token = match.group(1)
        if token == "index":
            units.append(((str(max(0, int(index))),), True))
        elif token == "date":
            parts = tuple(ascii_words(_value(fields, "date")))
            if parts and "".join(parts) not in seen:
                seen.add("".join(parts))
                units.append((parts, False))
        else:
            for word in _field_words(_value(fields, token)):
                if word not in seen:
                    seen.add(word)
                    units.append(((word,), False))
    units += [((w,), False) for w in ascii_words(template[pos:])]

    sep = len(_JOINERS[case])
    budget = max_length - sum(sum(map(len, u)) + sep * len(u) for u, keep in units if keep)
    kept: list[tuple[str, ...]] = []
    cutting = has_word = False
    for parts, keep in units:
        size = sum(map(len, parts)) + sep * len(parts)  # each word brings one separator (one too many: fine)
        if keep:
            kept.append(parts)
        elif cutting or size > budget + sep:
            if not cutting and not has_word:  # only a first word (or date) longer than the limit is cut
                piece, room = [], budget
                for word in parts:
                    if room <= 0:
                        break
                    piece.append(word[:room])
                    room -= len(piece[-1]) + sep
                kept += [tuple(piece)] if piece else []
            cutting = True
        else:
            budget -= size
            has_word = True
            kept.append(parts)
    words = [w for parts in kept for w in parts]
    stem = _join(words, case)[:max_length].rstrip("-_")
    return _guard(stem, case)[:max_length]


def compose_item_name(fields: dict[str, str], *, original_name: str, template: str = DEFAULT_TEMPLATE,
                      case: str = "kebab", max_length: int = 60, index: int = 1) -> str:
    """The name for an analysed file, never worse than the name it came with.

    With a subject, the template decides. Without one (the analyzer found nothing it could name), the
    name is what is known for sure: the user's keywords, the date and the place — and when none of those
    exists either, the original stem as it was (`DSC_0412`), since a camera counter still tells files
    apart where "black image" does not.
    """
    if (fields.get("subject") or "").strip():
        return compose_name(fields, template=template, case=case, max_length=max_length, index=index)
    known = {k: fields.get(k) or "" for k in ("keywords", "date", "place")}
    if not any(v.strip() for v in known.values()):
        stem = _safe(original_name.rsplit(".", 1)[0] if "." in original_name else original_name)
        return _guard(stem[:max_length].rstrip("-_"), case)
    return compose_name(known, template="{keywords}-{date}-{place}", case=case, max_length=max_length)


_EXTENSIONS = {
    "jpg": ".jpg", "jpeg": ".jpg", "jpe": ".jpg", "jfif": ".jpg", "pjpeg": ".jpg",
    "png": ".png", "webp": ".webp", "gif": ".gif", "tif": ".tif", "tiff": ".tif",
    "heic": ".heic", "heif": ".heic", "heic-sequence": ".heic", "heif-sequence": ".heic",
}


def normalise_extension(ext_or_mime: str) -> str:
    """One canonical extension ('.jpg') for an extension ('JPEG', '.jpe') or MIME type ('image/jpeg')."""
    value = (ext_or_mime or "").strip().lower().split(";")[0].strip()
    if "/" in value:
        kind, _, value = value.partition("/")
        if kind != "image":
            raise ValueError(f"{ext_or_mime!r} is not an image type.")
    value = value.lstrip(".").removeprefix("x-")
    if value not in _EXTENSIONS:
        raise ValueError(f"Unknown image type {ext_or_mime!r}; Atelier names JPEG, PNG, WebP, GIF, TIFF and HEIC.")
    return _EXTENSIONS[value]


def _style_of(stem: str) -> str:
    """The case style a stem is written in, for callers that do not name one."""
    if "_" in stem and "-" not in stem:
        return "snake"
    if "-" not in stem and re.search(r"[a-z0-9][A-Z]", stem):
        return "camel"
    return "title" if stem[:1].isupper() else "kebab"


def unique_names(stems: list[str], exts: list[str], *, case: str | None = None) -> list[str]:
    """Full file names, unique in the batch without regard to case, stable for the same input.

    The first file with a name keeps it; later ones get the lowest free number: `-2` (kebab, title),
    `_2` (snake), `2` (camel, or `_2` after a stem ending in a digit so the numbers stay apart). The
    style is `case`, or read from each stem when not given. Names taken by first occurrences are
    reserved up front, so "a", "a", "a-2" gives "a", "a-3", "a-2". Stems are made `file_safe` (people edit
    them; a composed stem is already).
    """
    if case is not None:
        _check_case(case)
    if len(stems) != len(exts):
        raise ValueError("unique_names needs one extension per stem.")
    safe = [file_safe(stem) for stem in stems]
    styles = [case or _style_of(stem) for stem in safe]
    names = [_guard(stem, style) + normalise_extension(ext)
             for stem, style, ext in zip(safe, styles, exts, strict=True)]
    taken: set[str] = set()
    firsts: list[bool] = []
    for name in names:
        firsts.append(name.lower() not in taken)
        taken.add(name.lower())
    out: list[str] = []
    for name, style, first in zip(names, styles, firsts, strict=True):
        if not first:
            stem, dot, ext = name.rpartition(".")
            if style == "snake" or (style == "camel" and stem[-1].isdigit()):
                sep = "_"
            else:
                sep = "" if style == "camel" else "-"
            n = 2
            while f"{stem}{sep}{n}".lower() in RESERVED or f"{stem}{sep}{n}{dot}{ext}".lower() in taken:
                n += 1
            name = f"{stem}{sep}{n}{dot}{ext}"
            taken.add(name.lower())
        out.append(name)
    return out


# Words cameras, phones and editing tools put in file names; they say nothing about the picture.
_NOISE = frozenset(
    "img image images pic pict picture dsc dscn dscf dcim pxl mvimg vid mov pano burst gopr gh gx dji sam wp mg "
    "wa photo photos copy final edited edit edits untitled unknown new old resized resize large medium small thumb "
    "thumbnail scaled min optimized optimised compressed export exported version original orig am pm at "
    "jpg jpeg jpe png webp gif tif tiff heic heif raw dng cr2 cr3 nef arw orf rw2 raf".split()
)
_KNOWN_EXT = re.compile(r"\.(jpe?g|jpe|jfif|png|webp|gif|tiff?|heic|heif|dng|raw|cr[23]|nef|arw|orf|rw2|raf)$", re.I)
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_CAMEL = re.compile(r"(?<=[A-Za-z][a-z])(?=[A-Z][a-z])")  # "MyHoliday" splits, "iPhone" does not
_LETTER_DIGITS = re.compile(r"(?<=[A-Za-z])(?=\d{4})")  # "DSC01234", "beach2023": a counter or a year
_HEX = re.compile(r"[0-9a-f]{6,}")
_VERSION = re.compile(r"v\d+|\d+(st|nd|rd|th|x|px|k|mp)?")


def clean_tags(tags: list[str], *, limit: int = 20) -> list[str]:
    """Tags as people expect them: lower case, single-spaced, no function words alone, no repeats."""
    out: list[str] = []
    for tag in tags:
        tag = " ".join(str(tag or "").lower().split())[:60]
        words = tag.split()
        while words and words[0] in FUNCTION_WORDS:  # "the beach" → "beach"
            words.pop(0)
        while words and words[-1] in FUNCTION_WORDS:
            words.pop()
        tag = " ".join(words)
        if tag and tag not in out:
            out.append(tag)
    return out[:limit]


def words_from_filename(name: str) -> list[str]:
    """Useful words from an original file name, without camera counters, timestamps, hashes or extensions."""
    base = unidecode(re.split(r"[\\/]", name or "")[-1])
    while _KNOWN_EXT.search(base):
        base = _KNOWN_EXT.sub("", base)
    base = _UUID.sub(" ", base)
    base = re.sub(r"screen[\s_-]*shot", "screenshot", base, flags=re.I)
    base = _LETTER_DIGITS.sub(" ", _CAMEL.sub(" ", base))
    words: list[str] = []
    for word in ascii_words(base):
        digits = sum(ch.isdigit() for ch in word)
        if (len(word) < 2 or word in STOP_WORDS or word in _NOISE or _VERSION.fullmatch(word)
                or digits * 2 > len(word) or (digits and _HEX.fullmatch(word))):
            continue
        if word not in words:
            words.append(word)
    return words
