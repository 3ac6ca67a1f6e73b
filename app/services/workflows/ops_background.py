"""Remove background: a real alpha matte, locally (GrabCut or saliency) or through a remote provider.

Local GrabCut: seeds come from the importance map (saliency + contrast with the border colours; the
border itself is certainly background), OpenCV's GrabCut (graph cuts over colour models, Rother et al.
2004) segments a copy at most 512 px long, and a guided filter at up to 1600 px snaps the mask to the
image's edges before it is scaled to full size and feathered. Works best on a subject against a
plain or distinct backdrop (product shots, portraits); busy scenes need the remote engine.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from PIL import Image

from app.services.workflows import schema as s
from app.services.workflows.base import Frame, OpContext, Operation, OperationFailed, StepResult
from app.services.workflows.codec import decode_remote, encode_for_remote
from app.services.workflows.detect import guided_filter, importance, small_rgb
from app.services.workflows.remote import call_remote

SEGMENT_SIDE = 512  # GrabCut's cost grows with pixels; the matte is refined at higher resolution after
REFINE_SIDE = 1600
GRABCUT_ITERATIONS = 5

BACKGROUND_SCHEMA = s.obj({
    "engine": s.choice("Engine", [("local", "Local (GrabCut / saliency)"),
                                  ("remote", "Remote model (fal / Replicate)")], order=1, default="local"),
    "method": s.choice("Local method", [("grabcut", "GrabCut (best for product shots and portraits)"),
                                        ("saliency", "Saliency (fast, rough)")], order=2, default="grabcut",
                       visible_if={"engine": ["local"]}),
    "feather": s.number("Edge softness", order=3, minimum=0, maximum=20, default=1.5, unit="px",
                        description="Blur of the matte's edge, in pixels of a 1000-px image (scaled to yours)."),
    "format": s.choice("Output", [("png", "PNG (lossless)"), ("webp", "WebP (smaller)")], order=4, default="png"),
    "crop_to_subject": s.boolean("Crop to subject", order=5, default=False,
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
    """An 'L' alpha matte at full size: 255 subject, 0 background, soft at the edges."""
    rgb, _ = small_rgb(image, SEGMENT_SIDE)
    coarse = _grabcut(rgb) if method == "grabcut" else _saliency(rgb)
    if coarse.mean() < 0.002:
        raise OperationFailed("No subject could be told apart from the background.", code="no_subject")
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
        alpha = result.getchannel("A")
    else:
        alpha = local_matte(image, method=params["method"], feather=params["feather"])
        info["method"] = params["method"]
    if image.mode == "RGBA":  # a cut-out of a cut-out keeps what was already transparent
        alpha = Image.fromarray(np.minimum(np.asarray(alpha), np.asarray(image.getchannel("A"))), "L")
    cut = image.convert("RGB")
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
    Operation("remove_background", "Remove background", "Cut out the subject with a transparent background: "
              "locally with GrabCut or saliency, or through a remote model.", "enhance", BACKGROUND_SCHEMA,
              _remove_background, remote="remove_background"),
]
