"""Text in photos for the local analyzer: Tesseract's words, kept only when they are confident, real words.

Tesseract reads texture (grass, brick, asphalt) as short "words" such as "sia" or "ee". A word is kept
only when Tesseract's own per-word confidence is high, it has letters enough to mean something, it is
not a function word, and it is in an English word list (pyspellchecker's, read once per process) —
or it is long and read with near certainty (brand names such as "Acme" are not all in word lists).
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
import pytesseract
from PIL import Image

from app.services.rename.naming import FUNCTION_WORDS

OCR_SIDE = 1600  # large enough for sign- and poster-sized text, small enough to keep Tesseract quick
SAUVOLA_SIDE = 1000  # Sauvola is slow on texture (20 s on grass at 1600): a smaller copy keeps it under 1 s
OCR_TIMEOUT_S = 10
MIN_CONFIDENCE = 75  # Tesseract's per-word confidence (0-100); real words on our photos read 90+, noise < 70
SURE_CONFIDENCE = 90  # a word not in the list is kept only from this confidence and SURE_LENGTH letters
SURE_LENGTH = 5
MIN_FREQUENCY = 20  # the word list's rarest entries are mostly typos and fragments
MAX_WORDS = 12
# Letters ≥ MIN_LETTER_PX tall here: ~13 px in a 2000 px photo, ~25 px in a 4000 px one. MSER is most of the
# cost of OCR on a photo without text (bench.rename, profiled): 1100 px finds every caption 1200 px did in
# the tests (7 px here is 7.6 px at 1200, a little finer than the 8 px used there) for ~10 % less time.
DETECT_SIDE = 1100
MIN_LETTER_PX = 7

_LETTERS = re.compile(r"[A-Za-z]{3,}")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """~60,000 English words (lower case) from pyspellchecker's frequency list, loaded on first OCR (~0.15 s)."""
    with resources.files("spellchecker").joinpath("resources/en.json.gz").open("rb") as raw, \
            gzip.open(raw) as unzipped:
        counts = json.load(unzipped)
    return frozenset(word for word, count in counts.items() if count >= MIN_FREQUENCY and word.isalpha())


def _plausible(word: str) -> bool:
    """Letters arranged like a word: a vowel, no triple letters, no long consonant runs, one case style."""
    return (bool(re.search(r"[aeiouy]", word, re.I)) and not re.search(r"(.)\1\1", word, re.I)
            and not re.search(r"[^aeiouy]{5,}", word, re.I) and (word.islower() or word.isupper() or word.istitle()))


def _split_compound(word: str, known: frozenset[str]) -> list[str]:
    """'FRESHBREAD' → ['FRESH', 'BREAD'] when both halves are known words (Tesseract joins close words)."""
    lower = word.lower()
    for cut in range(3, len(word) - 2):
        if lower[:cut] in known and lower[cut:] in known and lower[:cut] not in FUNCTION_WORDS:
            return [word[:cut], word[cut:]]
    return []


def keep_words(read: list[tuple[str, float]]) -> list[str]:
    """The real words among Tesseract's (text, confidence) pairs, as read, first occurrence of each."""
    known = english_words()
    words: dict[str, str] = {}  # lower case → as read, in reading order
    for raw, confidence in read:
        if confidence < MIN_CONFIDENCE:
            continue
        for word in _LETTERS.findall(str(raw)):
            lower = word.lower()
            if lower in FUNCTION_WORDS or not _plausible(word):
                continue
            if lower in known:
                found = [word]
            else:
                found = _split_compound(word, known) or (
                    [word] if confidence >= SURE_CONFIDENCE and len(word) >= SURE_LENGTH else [])
            for part in found:
                words.setdefault(part.lower(), part)
    return list(words.values())[:MAX_WORDS]


def _tesseract(image: Image.Image, *, side: int, method: int) -> list[tuple[str, float]]:
    gray = image.convert("L")
    gray.thumbnail((side, side), Image.Resampling.BILINEAR)
    # psm 11 (sparse text) finds signs and captions scattered in a photo where psm 3 expects a page.
    data = pytesseract.image_to_data(gray, lang="eng", config=f"--psm 11 -c thresholding_method={method}",
                                     timeout=OCR_TIMEOUT_S, output_type=pytesseract.Output.DICT)
    return [(str(t), float(c)) for t, c in zip(data.get("text", []), data.get("conf", []), strict=False)
            if str(t).strip()]


def text_lines(image: Image.Image, *, side: int = DETECT_SIDE) -> int:
    """How many rows of letter-like shapes the picture has (0: no text worth reading).

    Detection before recognition, as OCR engines do: MSER finds stable dark-on-light and light-on-dark
    blobs (~30-60 ms at 1200 px); a letter is a blob of letter proportions and ink, and a line is three
    or more of them of one height side by side. Texture (grass, gravel) makes many blobs but no lines;
    faces, shapes and gradients make none. Measured on tests/photos.py's scenes and the unit tests'
    signs: every picture with text had ≥ 4 lines, every one without had 0.
    """
    gray = np.asarray(image.convert("L"))
    height, width = gray.shape
    scale = side / max(height, width)
    if scale < 1:
        gray = cv2.resize(gray, (max(1, int(width * scale)), max(1, int(height * scale))),
                          interpolation=cv2.INTER_AREA)
    height, width = gray.shape
    _regions, boxes = cv2.MSER_create(5, 30, int(height * width * 0.05)).detectRegions(gray)
    letters = sorted({(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes
                      if MIN_LETTER_PX <= h <= height * 0.5 and 0.15 < w / h < 1.6})
    lines, used = 0, set()
    for i, (x, y, w, h) in enumerate(letters):
        if i in used:
            continue
        row, right, middle = [i], x + w, y + h / 2
        for j in range(i + 1, len(letters)):
            x2, y2, w2, h2 = letters[j]
            if j in used or not 0.7 < h2 / h < 1.4 or abs(y2 + h2 / 2 - middle) >= h * 0.3:
                continue
            if right - w * 0.5 < x2 and x2 - right < h:  # the next letter along, not one inside this one
                row.append(j)
                right = x2 + w2
        if len(row) >= 3:
            lines += 1
            used.update(row)
    return lines


def read_text(image: Image.Image) -> tuple[list[str], str]:
    """Words read with confidence, and a status: ok, no_text (nothing letter-like: not read),
    unavailable, timeout or failed.

    Two passes: Otsu's global threshold (fast on texture, reads dark-on-light signs), then, only when
    it found no word, Sauvola's local threshold on a smaller copy (text over gradients and shapes).
    Both are skipped for a picture with no line of letter-like shapes (text_lines): most photos, and
    Tesseract's two passes were 90 % of a rename with OCR on.
    """
    if not shutil.which("tesseract"):
        return [], "unavailable"
    if min(image.size) < 16:  # no readable text fits, and Tesseract's thresholding errors on such sizes
        return [], "ok"
    if not text_lines(image):
        return [], "no_text"
    words: list[str] = []
    status = "ok"
    for side, method in ((OCR_SIDE, 0), (SAUVOLA_SIDE, 2)):
        try:
            words = keep_words(_tesseract(image, side=side, method=method))
        except (pytesseract.TesseractError, OSError):  # TesseractError is a RuntimeError: test it first
            status = "failed"
        except RuntimeError:  # pytesseract's way of saying the timeout killed Tesseract
            status = "timeout"
        if words:
            return words, "ok"
    return [], status
