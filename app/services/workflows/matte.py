"""Alpha mattes that can be trusted: a cut by colour for plain backgrounds, and a check of any matte.

- Colour: on a plain or near-plain backdrop (product shots, logos) the background is exactly the pixels
  of that colour connected to the frame — a flood fill with a tolerance, not a guess. The edge keeps the
  picture's own anti-aliasing: an edge pixel is a mix of subject and backdrop, and its distance from the
  backdrop colour over the nearby subject's gives its coverage; its colour is un-mixed from the backdrop
  so no fringe of the old colour stays on the new one.
- Check: GrabCut and saliency segment by statistics and can keep a fragment (a helmet, two eyes) or half
  the scene. A matte that falls apart, keeps almost nothing or almost everything, or runs into the frame
  where background should be, is refused with its reason instead of being shipped.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.services.workflows.detect import to_lab

MIN_KEPT, MAX_KEPT = 0.005, 0.95  # shares of the picture: below, nothing was found; above, nothing removed
PIECE = 0.02  # components under this share of what was kept are specks, not pieces
MIN_LARGEST = 0.8  # a whole subject is one piece: the largest must hold this share of what was kept
MAX_PIECES = 4
MAX_FRAME = 0.2  # share of the frame's inner ring a subject may touch before it reads as cut by the frame
MAX_CRUMBS = 0.5  # share of a remote matte in specks (pieces under PIECE) above which it is a wreck
HOLE_MATCH = 0.5  # an enclosed area is background only when it is this close (× tolerance) to the colour


def colour_tolerance(noise: float) -> float:
    """The flood's tolerance in Lab units from the border's own spread: above noise, below a pale subject."""
    return float(np.clip(noise + 4.0, 6.0, 18.0))


def colour_matte(rgb: np.ndarray, colour: tuple[int, int, int], *, tolerance: float,
                 clear_holes: bool = True) -> np.ndarray:
    """Alpha in [0, 1] (float32): 0 where the backdrop `colour` reaches from the frame, soft at the edge.

    With `clear_holes`, areas the subject encloses that are the backdrop's colour almost exactly (the
    inside of an O, the gap in a handle) are background too: what shows through them is the backdrop.
    Enclosed areas that only resemble it (an off-white label on a product on white) stay.
    """
    lab = to_lab(rgb)
    distance = np.linalg.norm(lab - to_lab(np.array([[colour]], np.uint8))[0, 0], axis=2)
    near = (distance <= tolerance).astype(np.uint8)
    count, labels = cv2.connectedComponents(near, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background_labels = set(edge_labels[edge_labels > 0].tolist())
    if clear_holes and count > 1:
        sizes = np.bincount(labels.ravel(), minlength=count)
        means = np.bincount(labels.ravel(), weights=distance.ravel(), minlength=count) / np.maximum(sizes, 1)
        least = max(9, round(labels.size * 1e-5))  # a specular glint is not a hole
        background_labels |= {i for i in range(1, count) if sizes[i] >= least and means[i] <= tolerance * HOLE_MATCH}
    background = np.isin(labels, list(background_labels)) if background_labels else np.zeros(near.shape, bool)
    alpha = (~background).astype(np.float32)
    kernel = np.ones((3, 3), np.uint8)
    bg8 = background.astype(np.uint8)
    edge = (cv2.dilate(bg8, kernel) > 0) & (cv2.erode(bg8, kernel) == 0)  # one pixel either side of the line
    if edge.any():
        subject = cv2.dilate(np.where(background, 0, distance).astype(np.float32), np.ones((5, 5), np.uint8))
        floor = min(tolerance / 2, 3.0)  # the backdrop's own noise is not coverage
        coverage = (distance - floor) / np.maximum(subject - floor, tolerance)
        alpha[edge] = np.clip(coverage[edge], 0, 1)
    return alpha


def unmix(rgb: np.ndarray, alpha: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Edge pixels with the backdrop's share taken out (I = aF + (1-a)B → F), so no halo of it stays."""
    out = rgb.copy()
    soft = (alpha > 0.02) & (alpha < 0.98)
    if soft.any():
        a = alpha[soft][:, None]
        mixed = rgb[soft].astype(np.float32)
        out[soft] = np.clip((mixed - (1 - a) * np.asarray(colour, np.float32)) / a, 0, 255).round().astype(np.uint8)
    return out


def matte_problem(kept: np.ndarray, *, whole_subject: bool, frame_band: int = 0) -> str | None:
    """Why this binary matte (True = kept) is not a usable cut-out, or None.

    `whole_subject`: the matte came from a segmentation (GrabCut, saliency) that should find one subject,
    so pieces and frame contact are checked; a cut by colour keeps every letter of a logo on purpose.
    `frame_band`: the pixels along the frame the segmentation was told are background.
    """
    share = float(kept.mean())
    if share < MIN_KEPT:
        return f"almost nothing was kept ({share:.1%} of the picture)"
    if share > MAX_KEPT:
        return f"almost everything was kept ({share:.0%} of the picture)"
    if not whole_subject:
        return None
    _, _, stats, _ = cv2.connectedComponentsWithStats(kept.astype(np.uint8), connectivity=8)
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
    total = float(areas.sum())
    pieces = int((areas >= total * PIECE).sum())
    if areas[0] / total < MIN_LARGEST or pieces > MAX_PIECES:
        return (f"the cut-out falls apart into {pieces} pieces (the largest holds {areas[0] / total:.0%} of what "
                "was kept)")
    ring = _ring(kept, frame_band + 1)
    if ring.mean() > MAX_FRAME:
        return f"what was kept runs into the frame along {ring.mean():.0%} of it, where the background should be"
    return None


def remote_matte_problem(alpha: np.ndarray) -> str | None:
    """Why a remote engine's alpha (uint8, 0-255) is not a usable cut-out, or None.

    A model may cut several things (the letters of a logo) and a subject may run out of the frame (a
    portrait's shoulders), so pieces and frame contact are not held against it. What is: keeping the whole
    picture (an engine that returned it unchanged), keeping almost nothing, and a matte that is mostly
    crumbs, specks too small to be part of any subject.
    """
    h, w = alpha.shape
    step = max(1, round(max(h, w) / 1024))  # a coarse grid is enough to see crumbs; a 4× result is big
    kept = alpha[::step, ::step] > 127
    share = float(kept.mean())
    if share > 0.995:
        return "it kept the whole picture: the background was not removed"
    problem = matte_problem(kept, whole_subject=False)
    if problem:
        return problem
    _, _, stats, _ = cv2.connectedComponentsWithStats(kept.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    crumbs = float(areas[areas < areas.sum() * PIECE].sum() / areas.sum())
    if crumbs > MAX_CRUMBS:
        return f"the cut-out is {crumbs:.0%} scattered specks, not a subject"
    return None


def _ring(mask: np.ndarray, at: int) -> np.ndarray:
    """The mask's values on the rectangle `at` pixels in from the frame."""
    h, w = mask.shape
    at = min(at, (min(h, w) - 1) // 2)
    return np.concatenate([mask[at, at:w - at], mask[h - 1 - at, at:w - at], mask[at:h - at, at],
                           mask[at:h - at, w - 1 - at]])
