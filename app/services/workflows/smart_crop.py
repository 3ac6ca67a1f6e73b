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
            return CropPlan(padded(size, aspect, region), pad=pad, faces=len(faces),
                            reason=f"the {len(faces)} faces do not fit together in a crop of this shape: padded "
                                   "instead of cutting one")
        allowed = span
    start = _best_start(weight, axis, length, back, allowed)
    return CropPlan((start, 0.0, start + bw, float(h)) if axis == 0 else (0.0, start, float(w), start + bh),
                    faces=len(faces))


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
