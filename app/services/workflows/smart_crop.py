"""Where a cover crop goes, and when a picture must be padded instead of cropped.

- Anchored crops (centre, top, left…): the largest box of the aspect, placed at the anchor.
- Smart, on a flat background (logos, product shots; a border of one colour, or a transparent one):
  the subject is every pixel unlike the backdrop. A crop that only trims backdrop is fine; one that
  would cut into the subject is replaced by padding with the backdrop's colour — a logo loses letters
  otherwise, and the padding is invisible against its own background.
- Smart, on a photo: every detected face box must be inside the window whole, with a margin (a crop
  through an eye is the worst crop there is); among the windows that hold them, the one holding the
  most importance (saliency + border contrast, faces weighted high) wins, with a slight preference for
  the centre. When the faces cannot fit together, the region that holds them is padded to the shape.
- Smart, on a photo without faces: a distinct subject (a compact region that stands well out of the
  importance map) wider than the crop's shape — a long product, a car, a row of things in a 9:16 — is
  fitted whole and padded, not cut; a scene with no distinct subject is cropped as above.
- OpenCV's cat-face cascades were tried on a real cat close-up (tests/data/photos/DSC_4100.jpg): at
  every scale they found only patches of nose and mouth (and a "cat" on the astronaut portrait), never
  the face, so cat faces are not looked for; a cat's face is kept by the importance map instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from app.services.workflows.detect import detect_faces, flat_background, importance, small_rgb, to_lab
from app.services.workflows.matte import colour_tolerance

Box = tuple[float, float, float, float]
FACE_WEIGHT = 3.0  # faces together outweigh the rest of the importance map threefold: people look at faces
FACE_MARGIN = 0.25  # of a face box's size on each side: Haar boxes stop at the brows and the chin
SUBJECT_MARGIN = 0.03  # of the window, kept around a subject on a flat background
# A photo's subject: importance at least SUBJECT_LEVEL, covering SUBJECT_AREA of the picture, and standing
# SUBJECT_CONTRAST times above the rest (else it is a scene, not a subject). Its extent along the crop's
# axis is where SUBJECT_MASS of it lies (a stray bright speck does not widen it); wider than the window by
# more than WIDE_TOLERANCE and it is padded instead of cut.
SUBJECT_LEVEL = 0.45
SUBJECT_AREA = (0.03, 0.6)
SUBJECT_CONTRAST = 2.5
SUBJECT_MASS = 0.92
WIDE_TOLERANCE = 1.08
SUBJECT_PAD = 0.08  # of the subject's extent, added on each side
SUBJECT_ONE = 0.7  # the subject's region holds at least this share of all the stand-out regions' weight
EDGE_CUT = 0.25  # of a window: what cutting through its most important column costs (see _best_start)
CLEAR = (0, 0, 0, 0)


@dataclass(frozen=True)
class CropPlan:
    """The region of the source to show at the output size. It may reach past the image: that part is
    filled with `pad`, and `reason` says why the picture was padded rather than cropped."""

    box: Box
    pad: tuple[int, int, int, int] | None = None
    reason: str = ""
    faces: int = 0
    warn: bool = False  # the padding is not what the shape asked for (faces, a wide subject): say so


def window(size: tuple[int, int], aspect: float) -> tuple[float, float, int]:
    """The largest box of `aspect` (w/h) inside `size`: (width, height, the axis it slides along: 0 = x)."""
    w, h = size
    return (h * aspect, float(h), 0) if w / h > aspect else (float(w), w / aspect, 1)


def anchored(size: tuple[int, int], aspect: float, crop: str) -> Box:
    """The largest box of `aspect` placed by an anchor: center, top, bottom, left, right."""
    w, h = size
    bw, bh, axis = window(size, aspect)
    room = (w - bw) if axis == 0 else (h - bh)
    start = {"left": 0.0, "top": 0.0, "right": room, "bottom": room}.get(crop, room / 2)
    if (crop in ("left", "right") and axis == 1) or (crop in ("top", "bottom") and axis == 0):
        start = room / 2  # the anchor names the other axis: nothing to choose along this one
    return (start, 0.0, start + bw, float(h)) if axis == 0 else (0.0, start, float(w), start + bh)


def padded(size: tuple[int, int], aspect: float, region: Box | None = None) -> Box:
    """The smallest box of `aspect` around `region` (default: the whole image), centred on it."""
    x0, y0, x1, y1 = region or (0.0, 0.0, float(size[0]), float(size[1]))
    rw, rh = x1 - x0, y1 - y0
    bw, bh = (rw, rw / aspect) if rw / rh > aspect else (rh * aspect, rh)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2


def plan_smart(image: Image.Image, aspect: float, *, pad: tuple[int, int, int, int], faces: bool = True) -> CropPlan:
    """The smart cover plan: a crop that keeps the subject and faces whole, or padding when none can."""
    rgb, back = small_rgb(image, 256)
    backdrop = _flat_subject(image, rgb)
    if backdrop is not None:
        colour, subject = backdrop
        return _plan_flat(image.size, aspect, colour, _bbox(subject, back))
    boxes = detect_faces(image, side=640, profiles=False, min_fraction=1 / 30) if faces else []
    return _plan_photo(image.size, aspect, importance(rgb), back, boxes, pad)


def _flat_subject(image: Image.Image, rgb: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """(backdrop colour with alpha, subject mask at `rgb`'s size) when the background is flat or clear."""
    if image.mode == "RGBA":
        alpha = np.asarray(image.getchannel("A").resize(rgb.shape[1::-1], Image.Resampling.BILINEAR))
        edge = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
        if (edge < 16).mean() > 0.9:  # a cut-out: its padding is transparent too
            return CLEAR, alpha >= 16
    flat = flat_background(rgb)
    if flat is None:
        return None
    colour, noise = flat
    distance = np.linalg.norm(to_lab(rgb) - to_lab(np.array([[colour]], np.uint8))[0, 0], axis=2)
    subject = cv2.morphologyEx((distance > colour_tolerance(noise)).astype(np.uint8), cv2.MORPH_OPEN,
                               np.ones((2, 2), np.uint8)) > 0  # JPEG specks are not subject
    return (*colour, 255), subject


def _bbox(mask: np.ndarray, back: float) -> Box | None:
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return xs.min() * back, ys.min() * back, (xs.max() + 1) * back, (ys.max() + 1) * back


def _plan_flat(size: tuple[int, int], aspect: float, colour: tuple[int, int, int, int],
               subject: Box | None) -> CropPlan:
    bw, bh, _ = window(size, aspect)
    if subject is None:  # nothing but backdrop: any window shows the same
        return CropPlan(anchored(size, aspect, "center"))
    sx0, sy0, sx1, sy1 = subject
    margin = SUBJECT_MARGIN * max(bw, bh)
    if sx1 - sx0 + 2 * margin <= bw and sy1 - sy0 + 2 * margin <= bh:  # the crop trims backdrop only
        x0 = float(np.clip((sx0 + sx1 - bw) / 2, 0, size[0] - bw))
        y0 = float(np.clip((sy0 + sy1 - bh) / 2, 0, size[1] - bh))
        return CropPlan((x0, y0, x0 + bw, y0 + bh))
    return CropPlan(padded(size, aspect), pad=colour,
                    reason="a plain background: padded with its color instead of cropping into the subject")


def _plan_photo(size: tuple[int, int], aspect: float, weight: np.ndarray, back: float,
                faces: list[tuple[int, int, int, int]], pad: tuple[int, int, int, int]) -> CropPlan:
    w, h = size
    bw, bh, axis = window(size, aspect)
    length, full = (bw, w) if axis == 0 else (bh, h)
    if full - length <= 0.5:
        return CropPlan((0.0, 0.0, float(w), float(h)), faces=len(faces))
    allowed: tuple[float, float] = (0.0, full - length)
    if faces:
        face_mask = np.zeros_like(weight)
        for x0, y0, x1, y1 in faces:
            face_mask[int(y0 / back):int(np.ceil(y1 / back)), int(x0 / back):int(np.ceil(x1 / back))] = 1
        weight = weight + FACE_WEIGHT * weight.sum() / max(face_mask.sum(), 1) * face_mask
        span = _face_span(faces, axis, full, length)
        if span is None:  # the faces do not fit together: show the region holding them, padded
            lo, hi = min(f[axis] for f in faces), max(f[axis + 2] for f in faces)
            margin = FACE_MARGIN * max(f[axis + 2] - f[axis] for f in faces)
            lo, hi = max(0.0, lo - margin), min(float(full), hi + margin)
            region = (lo, 0.0, hi, float(h)) if axis == 0 else (0.0, lo, float(w), hi)
            return CropPlan(padded(size, aspect, region), pad=pad, faces=len(faces), warn=True,
                            reason=f"the {len(faces)} faces do not fit together in a crop of this shape: padded "
                                   "instead of cutting one")
        allowed = span
    else:
        subject = _subject_span(weight, axis, back, full)
        if subject is not None and subject[1] - subject[0] > WIDE_TOLERANCE * length:
            region = (subject[0], 0.0, subject[1], float(h)) if axis == 0 else (0.0, subject[0], float(w), subject[1])
            return CropPlan(padded(size, aspect, region), pad=pad, warn=True,
                            reason="the subject is wider than a crop of this shape: fitted whole and padded "
                                   "instead of cutting it")
    start = _best_start(weight, axis, length, back, allowed)
    return CropPlan((start, 0.0, start + bw, float(h)) if axis == 0 else (0.0, start, float(w), start + bh),
                    faces=len(faces))


def _subject_span(weight: np.ndarray, axis: int, back: float, full: float) -> tuple[float, float] | None:
    """Where a distinct subject lies along the crop's axis (full-size units), or None for a scene.

    The importance map smoothed into regions; the subject is the one region holding most of the weight,
    when it is compact and stands well out of the rest."""
    sigma = max(2.0, 0.04 * max(weight.shape))
    smooth = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), sigma)
    peak = float(smooth.max())
    if peak <= 0:
        return None
    count, labels = cv2.connectedComponents((smooth >= SUBJECT_LEVEL * peak).astype(np.uint8))
    masses = [float(smooth[labels == i].sum()) for i in range(1, count)]
    if not masses or max(masses) < SUBJECT_ONE * sum(masses):
        return None  # several things of like weight scattered about: a scene, cropped by importance
    mask = labels == 1 + int(np.argmax(masses))
    share = float(mask.mean())
    if not SUBJECT_AREA[0] <= share <= SUBJECT_AREA[1]:
        return None
    if smooth[mask].mean() < SUBJECT_CONTRAST * max(float(smooth[~mask].mean()), 1e-6):
        return None
    cumulative = np.cumsum(mask.sum(axis=axis).astype(np.float64))
    cumulative /= cumulative[-1]
    tail = (1 - SUBJECT_MASS) / 2
    lo, hi = int(np.searchsorted(cumulative, tail)) * back, int(np.searchsorted(cumulative, 1 - tail) + 1) * back
    margin = SUBJECT_PAD * (hi - lo)  # the smoothed region stops short of rounded ends and thin parts
    return max(0.0, lo - margin), min(full, hi + margin)


def _face_span(faces: list[tuple[int, int, int, int]], axis: int, full: float,
               length: float) -> tuple[float, float] | None:
    """The window starts that hold every face whole (with a margin when there is room), or None."""
    for share in (FACE_MARGIN, 0.0):
        lo = max(0.0, min(f[axis] - share * (f[axis + 2] - f[axis]) for f in faces))
        hi = min(full, max(f[axis + 2] + share * (f[axis + 2] - f[axis]) for f in faces))
        first, last = max(0.0, hi - length), min(full - length, lo)
        if first <= last:
            return first, last
    return None


def _best_start(weight: np.ndarray, axis: int, length: float, back: float, allowed: tuple[float, float]) -> float:
    """The start in [allowed] whose window holds the most importance; ties go to the centre of the range."""
    profile = weight.sum(axis=axis).astype(np.float64)  # importance per column (axis 0) or per row (axis 1)
    win = max(1, min(len(profile), round(length / back)))
    sums = np.convolve(profile, np.ones(win), mode="valid")  # importance inside each window position
    starts = np.arange(len(sums)) * back
    inside = (starts >= allowed[0] - 1e-6) & (starts <= allowed[1] + 1e-6)
    if not inside.any():  # the allowed range is narrower than one analysis pixel
        return (allowed[0] + allowed[1]) / 2
    centre = (allowed[0] + allowed[1]) / 2
    # A crop edge through something that stands out (an eye, a wheel, a letter) reads as a cut; an edge
    # in a quiet band does not. Each window pays for the importance its two edges cross, as if a band
    # EDGE_CUT of its length were lost there.
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    edges = smooth[: len(sums)] + smooth[win - 1: win - 1 + len(sums)]
    score = sums - EDGE_CUT * win * edges / 2
    score = score - 1e-3 * sums.max() * np.abs(starts - centre) / max(centre, 1)
    score[~inside] = -np.inf
    return float(np.clip(starts[int(np.argmax(score))], allowed[0], allowed[1]))
