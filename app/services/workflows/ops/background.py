"""Remove background: a real alpha matte, locally (by colour, GrabCut or saliency) or through a remote provider.

Local engines and what they can do:
- By colour, for plain and near-plain backdrops (product shots, logos; found by a border that is almost all
  one colour): the backdrop connected to the frame is flooded out with a tolerance, the edge keeps the
  picture's anti-aliasing (see matte.py). Exact where it applies; the automatic choice on such pictures.
- GrabCut: seeds come from the importance map (saliency + contrast with the border colours; the border
  itself is certainly background), OpenCV's GrabCut (graph cuts over colour models, Rother et al. 2004)
  segments a copy at most 512 px long, and a guided filter at up to 1600 px snaps the mask to the image's
  edges before it is scaled to full size and feathered. It separates a subject that differs clearly from
  a simple backdrop; on busy photos it keeps fragments or half the scene.
- Every local matte is checked (matte.matte_problem): one that is a wreck fails the item with its reason
  rather than shipping. Busy photos need the remote engine, a connected AI provider.
- A remote engine's matte is checked too (matte.remote_matte_problem): the whole picture kept (the server
  returned it unchanged), almost nothing kept, or mostly specks fails the item with its reason.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from PIL import Image

from app.services.workflows import schema as s
from app.services.workflows.base import Frame, OpContext, Operation, OperationFailed, StepResult
from app.services.workflows.codec import decode_remote, encode_for_remote
from app.services.workflows.detect import flat_background, guided_filter, importance, small_rgb
from app.services.workflows.matte import colour_matte, colour_tolerance, matte_problem, remote_matte_problem, unmix
from app.services.workflows.remote import call_remote

SEGMENT_SIDE = 512  # GrabCut's cost grows with pixels; the matte is refined at higher resolution after
REFINE_SIDE = 1600
GRABCUT_ITERATIONS = 5
COLOUR_SIDE = 2048  # the colour flood runs at up to this size; its soft alpha is scaled up from there
REMOTE_HINT = "For photos with busy backgrounds, a connected AI provider does better (engine: remote)."

BACKGROUND_SCHEMA = s.obj({
    "engine": s.choice("Engine", [("local", "Local: plain backgrounds (product shots, logos), simple backdrops"),
                                  ("remote", "Connected AI engine (the cut-out default: A1111, ComfyUI, fal or "
                                              "Replicate): any photo")],
                       order=1, default="local",
                       description="The local engine cuts plain and flat backgrounds cleanly and fails rather "
                                   "than guess on busy ones. For photos with busy backgrounds, a connected AI "
                                   "provider does better."),
    "method": s.choice("Local method", [
        ("auto", "Automatic: by color on a plain background, else GrabCut"),
        ("colour", "By color (plain or flat backgrounds: product shots, logos)"),
        ("grabcut", "GrabCut (a subject distinct from a simple backdrop)"),
        ("saliency", "Saliency (fast, rough)")], order=2, default="auto", visible_if={"engine": ["local"]}),
    "clear_enclosed": s.boolean("Clear enclosed background", order=3, default=True,
                                visible_if={"engine": ["local"], "method": ["auto", "colour"]},
                                description="Areas the subject encloses that have the background's exact color "
                                            "(the inside of an O) become transparent too."),
    "feather": s.number("Edge softness", order=4, minimum=0, maximum=20, default=1.5, unit="px",
                        description="Blur of a GrabCut or saliency matte's edge, in pixels of a 1000-px image "
                                    "(scaled to yours). A cut by color keeps the picture's own edge."),
    "format": s.choice("Output", [("png", "PNG (lossless)"), ("webp", "WebP (smaller)")], order=5, default="png"),
    "crop_to_subject": s.boolean("Crop to subject", order=6, default=False,
                                 description="Trim the transparent margin around what is kept."),
})


def _seeds(rgb: np.ndarray) -> np.ndarray:
    """A GrabCut mask: border certain background, important areas probable foreground, the rest probable bg."""
    h, w = rgb.shape[:2]
    weight = importance(rgb)
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    level, _ = cv2.threshold((weight * 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask[weight * 255 > max(level, 40)] = cv2.GC_PR_FGD
    if not (mask == cv2.GC_PR_FGD).any():  # nothing stands out: assume a centred subject
        mask[h // 8:h - h // 8, w // 8:w - w // 8] = cv2.GC_PR_FGD
    band = max(1, round(min(h, w) * 0.02))
    mask[:band], mask[-band:], mask[:, :band], mask[:, -band:] = (cv2.GC_BGD,) * 4
    return mask


def _failed(reason: str) -> OperationFailed:
    return OperationFailed(f"Could not separate the subject from this background: {reason}. {REMOTE_HINT}",
                           code="cutout_failed")


def _grabcut(rgb: np.ndarray) -> np.ndarray:
    mask = _seeds(rgb)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(3)  # GrabCut's colour models start from k-means: a fixed seed gives the same matte each run
    try:
        cv2.grabCut(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), mask, None, background, foreground, GRABCUT_ITERATIONS,
                    cv2.GC_INIT_WITH_MASK)
    except cv2.error as exc:  # raised when the seeds leave one side empty (e.g. a flat image)
        raise OperationFailed("No subject could be told apart from the background.", code="no_subject") from exc
    return ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)


def _saliency(rgb: np.ndarray) -> np.ndarray:
    weight = (importance(rgb) * 255).astype(np.uint8)
    _, mask = cv2.threshold(weight, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    return (mask > 0).astype(np.float32)


def local_matte(image: Image.Image, *, method: str, feather: float) -> Image.Image:
    """An 'L' alpha matte at full size by GrabCut or saliency: 255 subject, 0 background, soft at the edges.

    Raises OperationFailed (cutout_failed) with the reason when the segmentation is not a usable cut-out.
    """
    rgb, _ = small_rgb(image, SEGMENT_SIDE)
    coarse = _grabcut(rgb) if method == "grabcut" else _saliency(rgb)
    if coarse.mean() < 0.002:
        raise OperationFailed("No subject could be told apart from the background.", code="no_subject")
    band = max(1, round(min(rgb.shape[:2]) * 0.02)) if method == "grabcut" else 0  # _seeds' certain border
    problem = matte_problem(coarse > 0.5, whole_subject=True, frame_band=band)
    if problem:
        raise _failed(problem)
    guide_rgb, _ = small_rgb(image, REFINE_SIDE)
    guide = cv2.cvtColor(guide_rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    mask = cv2.resize(coarse, guide.shape[::-1], interpolation=cv2.INTER_LINEAR)
    radius = max(2, round(max(guide.shape) / 200))
    alpha = np.clip(guided_filter(guide, mask, radius=radius, eps=1e-3), 0, 1)
    # The filter leaves faint haze far from edges; snap near-certain values so the background is truly clear.
    alpha = np.clip((alpha - 0.1) / 0.8, 0, 1)
    alpha = cv2.resize(alpha, image.size, interpolation=cv2.INTER_LINEAR)
    if feather > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.3, feather * max(image.size) / 1000))
    return Image.fromarray((alpha * 255).round().astype(np.uint8), "L")


def colour_cut(image: Image.Image, *, clear_holes: bool, required: bool) -> tuple[Image.Image, Image.Image, str] | None:
    """(alpha, RGB pixels with the backdrop un-mixed from the edges, the backdrop as #rrggbb) when the
    picture's border is one plain colour; None when it is not (unless `required`: then a clear failure)."""
    rgb, back = small_rgb(image, COLOUR_SIDE)
    flat = flat_background(rgb)
    if flat is None:
        if required:
            raise _failed("its border is not one plain color, so it cannot be removed by color")
        return None
    colour, noise = flat
    alpha = colour_matte(rgb, colour, tolerance=colour_tolerance(noise), clear_holes=clear_holes)
    problem = matte_problem(alpha > 0.5, whole_subject=False)
    if problem:
        raise _failed(problem)
    if back > 1:
        alpha = cv2.resize(alpha, image.size, interpolation=cv2.INTER_LINEAR)
    pixels = unmix(np.asarray(image.convert("RGB")), alpha, colour)
    return (Image.fromarray((alpha * 255).round().astype(np.uint8), "L"), Image.fromarray(pixels, "RGB"),
            "#{:02x}{:02x}{:02x}".format(*colour))


def _local(image: Image.Image, params: dict[str, Any]) -> tuple[Image.Image, Image.Image, dict[str, Any]]:
    """(alpha, the RGB pixels to cut from, facts for the user) from the chosen local method."""
    method = params["method"]
    if method in ("auto", "colour"):
        cut = colour_cut(image, clear_holes=params["clear_enclosed"], required=method == "colour")
        if cut:
            return cut[0], cut[1], {"method": "colour", "background_colour": cut[2]}
        method = "grabcut"  # auto on a picture whose border is not plain
    alpha = local_matte(image, method=method, feather=params["feather"])
    return alpha, image.convert("RGB"), {"method": method}


def _remove_background(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    image, info = frame.image, {"engine": params["engine"]}
    if params["engine"] == "remote":
        answer = call_remote(ctx, "remove_background", encode_for_remote(frame), {})
        result = decode_remote(answer, max_pixels=ctx.max_output_pixels, what="background remover")
        if result.mode != "RGBA":
            raise OperationFailed("The remote background remover returned an image without transparency.",
                                  code="remote_bad_result")
        if result.size != image.size:
            result = result.resize(image.size, Image.Resampling.LANCZOS)
        alpha, cut = result.getchannel("A"), image.convert("RGB")
        problem = remote_matte_problem(np.asarray(alpha))
        if problem:  # a server that returns the picture as it was, or a wreck, must not pass as a cut-out
            raise OperationFailed(f"The remote background remover's cut-out is not usable: {problem}.",
                                  code="remote_bad_result")
    else:
        alpha, cut, facts = _local(image, params)
        info.update(facts)
    if image.mode == "RGBA":  # a cut-out of a cut-out keeps what was already transparent
        alpha = Image.fromarray(np.minimum(np.asarray(alpha), np.asarray(image.getchannel("A"))), "L")
    cut.putalpha(alpha)
    if params["crop_to_subject"]:
        box = alpha.point(lambda a: 255 if a > 8 else 0).getbbox()
        if box:
            cut = cut.crop(box)
            info["crop_box"] = list(box)
    info["subject_share"] = round(float(np.asarray(alpha).mean()) / 255, 3)
    fmt = "WEBP" if params["format"] == "webp" else "PNG"  # formats that hold transparency
    return StepResult(Frame(format=fmt, exif=frame.exif, xmp=frame.xmp, icc=frame.icc, _image=cut,
                            stripped=frame.stripped), info)


OPERATIONS = [
    Operation("remove_background", "Remove background", "Cut out the subject with a transparent background. "
              "Locally: cleanly on plain or flat backgrounds (product shots, logos), by GrabCut on a subject "
              "distinct from a simple backdrop, and a clear failure rather than a broken cut-out otherwise. "
              "For photos with busy backgrounds, a connected AI provider does better.", "enhance", BACKGROUND_SCHEMA,
              _remove_background, remote="remove_background"),
]
