"""What matters in a picture, with classical algorithms: saliency, faces, and an edge-aware matte filter.

- Spectral-residual saliency (Hou & Zhang, CVPR 2007): the part of the log spectrum that a smoothed
  spectrum does not explain marks the unusual, eye-catching regions. OpenCV's saliency module is not in
  the headless wheel, and the method is a few lines of FFT.
- Border contrast: distance in CIE Lab from the colours along the border, which in product and portrait
  shots are background. Together they make the importance map for smart crops and matte seeds.
- Flat backgrounds: a border that is almost all one colour (product shots, logos) is background that a
  colour flood removes or a padding extends, where a crop or GrabCut would guess.
- Faces: OpenCV's Haar cascades (frontal, and profile both ways round).
- Guided filter (He, Sun & Tang 2010): snaps a coarse mask to the image's edges, giving a soft matte.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
from PIL import Image

from app.services.rename.vision.local import face_cascade
from app.services.workflows.base import OperationFailed

Box = tuple[int, int, int, int]  # x0, y0, x1, y1
_local = threading.local()  # CascadeClassifier objects are not safe to share between threads


def _profile_cascade() -> cv2.CascadeClassifier:
    if not hasattr(_local, "profile"):
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_profileface.xml")
        if cascade.empty():
            raise OperationFailed("OpenCV's profile-face cascade file is missing.", code="detector_unavailable")
        _local.profile = cascade
    return _local.profile


def small_rgb(image: Image.Image, side: int) -> tuple[np.ndarray, float]:
    """An RGB array whose long side is at most `side`, and the factor from it back to full size."""
    scale = min(1.0, side / max(image.size))
    small = image if image.mode == "RGB" else image.convert("RGB")
    if scale < 1.0:  # reducing_gap: a fast box reduction first, then bilinear; plenty for analysis
        small = small.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(small), 1.0 / scale


def spectral_residual(gray: np.ndarray) -> np.ndarray:
    """Saliency in [0, 1] at the input's size, computed at 64 px on the long side as in the paper."""
    h, w = gray.shape
    k = 64 / max(h, w)
    small = cv2.resize(gray.astype(np.float32), (max(8, round(w * k)), max(8, round(h * k))),
                       interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    saliency = cv2.GaussianBlur(saliency.astype(np.float32), (0, 0), 2.5)
    saliency = cv2.resize(saliency, (w, h), interpolation=cv2.INTER_LINEAR)
    return _unit(saliency)


def border_contrast(rgb: np.ndarray) -> np.ndarray:
    """How far each pixel's colour is from the border's colours (Lab), in [0, 1]."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = lab.shape[:2]
    band = max(1, round(min(h, w) * 0.04))
    border = np.concatenate([lab[:band].reshape(-1, 3), lab[-band:].reshape(-1, 3),
                             lab[:, :band].reshape(-1, 3), lab[:, -band:].reshape(-1, 3)])
    # A few border colours, not one: a gradient sky or a two-tone backdrop is still background.
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(7)
    k = min(4, len(border))
    _, _, centres = cv2.kmeans(border, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    distance = np.min(np.linalg.norm(lab[:, :, None, :] - centres[None, None], axis=3), axis=2)
    noise = np.percentile(np.min(np.linalg.norm(border[:, None] - centres[None], axis=2), axis=1), 95)
    return np.clip((distance - noise) / 40.0, 0, 1)  # ~40 Lab units apart reads as clearly different


def importance(rgb: np.ndarray) -> np.ndarray:
    """Where the subject probably is, in [0, 1]: saliency and border contrast, both normalised."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return _unit(0.5 * spectral_residual(gray) + 0.5 * border_contrast(rgb))


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab as float32 (L 0..100, a/b about -128..127): distances are perceptual, ~2.3 just noticeable."""
    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32) / 255, cv2.COLOR_RGB2LAB)


def border_pixels(values: np.ndarray, *, share: float = 0.02) -> np.ndarray:
    """The pixels (rows of channels) in a band `share` of the short side wide along the four edges."""
    h, w = values.shape[:2]
    band = max(1, round(min(h, w) * share))
    channels = values.shape[2] if values.ndim == 3 else 1
    return np.concatenate([values[:band].reshape(-1, channels), values[-band:].reshape(-1, channels),
                           values[band:-band, :band].reshape(-1, channels),
                           values[band:-band, -band:].reshape(-1, channels)])


FLAT_DELTA = 10.0  # Lab units from the border's median: JPEG noise and a soft studio gradient stay under it
FLAT_SHARE = 0.9  # of the border that must be that close; a subject may touch the frame on the rest


def flat_background(rgb: np.ndarray) -> tuple[tuple[int, int, int], float] | None:
    """(the background colour, the border's 99th-percentile distance from it) when the border is one
    plain or near-plain colour — a product shot, a logo on a flat fill — else None (a photo)."""
    lab = border_pixels(to_lab(rgb))
    median = np.median(lab, axis=0)
    distance = np.linalg.norm(lab - median, axis=1)
    close = distance < FLAT_DELTA
    if close.mean() < FLAT_SHARE:
        return None
    colour = np.median(border_pixels(rgb)[close], axis=0)
    return (int(colour[0]), int(colour[1]), int(colour[2])), float(np.percentile(distance[close], 99))


def _unit(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return ((values - low) / (high - low)).astype(np.float32) if high > low else np.zeros_like(values, np.float32)


def _merge(boxes: list[Box]) -> list[Box]:
    """Union of boxes that overlap by more than a third of the smaller one (the same face seen twice)."""
    merged: list[Box] = []
    for box in sorted(boxes):
        for i, other in enumerate(merged):
            ix = max(0, min(box[2], other[2]) - max(box[0], other[0]))
            iy = max(0, min(box[3], other[3]) - max(box[1], other[1]))
            smaller = min((box[2] - box[0]) * (box[3] - box[1]), (other[2] - other[0]) * (other[3] - other[1]))
            if ix * iy > smaller / 3:
                merged[i] = (min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]),
                             max(box[3], other[3]))
                break
        else:
            merged.append(box)
    return merged


def detect_faces(image: Image.Image, *, side: int = 1024, profiles: bool = True, min_fraction: float = 1 / 40,
                 neighbours: int = 4) -> list[Box]:
    """Face boxes in full-size coordinates. Faces smaller than `min_fraction` of the short side are skipped.

    Works on a copy at most `side` pixels long; profiles are searched in the picture and its mirror
    image (the cascade only knows faces turned one way).
    """
    rgb, back = small_rgb(image, side)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    least = max(20, round(min(gray.shape) * min_fraction))
    found: list[Box] = []

    def run(cascade: cv2.CascadeClassifier, picture: np.ndarray, mirrored: bool) -> None:
        for x, y, w, h in cascade.detectMultiScale(picture, scaleFactor=1.1, minNeighbors=neighbours,
                                                   minSize=(least, least)):
            x0 = gray.shape[1] - (x + w) if mirrored else x
            found.append((int(x0), int(y), int(x0 + w), int(y + h)))

    run(face_cascade(), gray, False)
    if profiles:
        run(_profile_cascade(), gray, False)
        run(_profile_cascade(), np.ascontiguousarray(gray[:, ::-1]), True)
    full = [(round(x0 * back), round(y0 * back), round(x1 * back), round(y1 * back)) for x0, y0, x1, y1 in found]
    return [(max(0, x0), max(0, y0), min(image.width, x1), min(image.height, y1)) for x0, y0, x1, y1 in _merge(full)]


def guided_filter(guide: np.ndarray, mask: np.ndarray, *, radius: int, eps: float = 1e-3) -> np.ndarray:
    """Edge-aware smoothing of `mask` (float, 0..1) following the grey `guide` (float, 0..1)."""
    size = (2 * radius + 1, 2 * radius + 1)

    def box(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(mask)
    var_i = box(guide * guide) - mean_i * mean_i
    a = (box(guide * mask) - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)
