"""Local background removal on the pictures designers bring: clean by colour on plain backdrops, a clear
failure instead of a wreck on busy ones, and a catalog that says which is which."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.services.workflows import OperationFailed, catalog, run_operation
from app.services.workflows.matte import matte_problem
from tests import workflow_pictures as pics

CANNOT = "Could not separate the subject from this background"


def cut(data: bytes, **params) -> tuple[np.ndarray, np.ndarray, dict]:
    out = run_operation(op_id="remove_background", image=data, params=params)[0]
    image = Image.open(io.BytesIO(out.data))
    assert image.mode == "RGBA"
    return np.asarray(image.getchannel("A")), np.asarray(image.convert("RGB")).astype(int), out.info


def test_product_on_near_white_is_cut_by_colour_and_keeps_its_pale_label():
    alpha, _, info = cut(pics.product_on_white())
    assert info["method"] == "colour" and info["background_colour"].startswith("#f")
    assert (pics.region(alpha, pics.BOTTLE) == 255).mean() > 0.99
    assert (pics.region(alpha, pics.LABEL) == 255).mean() > 0.99  # off-white, enclosed: not the backdrop
    for box in pics.BACKDROP:  # including the brighter bottom of the studio gradient
        assert (pics.region(alpha, box) == 0).mean() > 0.99


def test_logo_on_a_flat_colour_keeps_every_letter_with_soft_clean_edges():
    alpha, rgb, info = cut(pics.logo())
    assert info["method"] == "colour"
    assert (pics.region(alpha, pics.LOGO_RING) == 255).all()
    for letter in ((325, 70, 355, 230), (405, 70, 435, 230), (445, 205, 515, 235)):  # I, L stem, L foot
        assert (pics.region(alpha, letter) == 255).all()
    # Decision: the inside of the O is the backdrop's colour, so it is background: the new one shows through.
    assert (pics.region(alpha, pics.LOGO_COUNTER) == 0).all()
    edge = (alpha > 20) & (alpha < 235)
    assert edge.sum() > 300  # anti-aliased, not a jagged 0/255 cut
    # Edge pixels carry the ink's colour, not a blue fringe of the old background.
    assert np.abs(rgb[edge] - np.array(pics.LOGO_INK)).max(axis=1).mean() < 30


def test_enclosed_background_can_be_kept():
    alpha, _, _ = cut(pics.logo(), clear_enclosed=False)
    assert (pics.region(alpha, pics.LOGO_COUNTER) == 255).all()


@pytest.mark.parametrize("method", ["auto", "grabcut"])
def test_busy_background_fails_with_the_reason_instead_of_a_wreck(method):
    with pytest.raises(OperationFailed, match=CANNOT) as caught:
        cut(pics.subject_on_busy_background(), method=method)
    assert caught.value.code == "cutout_failed" and "connected AI provider" in caught.value.message


def test_a_grabcut_that_loses_the_shoulders_fails():
    # GrabCut keeps the face and a thin outline of the shoulders: pieces, not a subject.
    with pytest.raises(OperationFailed, match=f"{CANNOT}: the cut-out falls apart"):
        cut(pics.portrait_on_gradient(), method="grabcut")


def test_by_colour_needs_a_plain_border():
    with pytest.raises(OperationFailed, match="not one plain color"):
        cut(pics.subject_on_busy_background(), method="colour")


def blob(shape=(200, 300), boxes=((60, 80, 140, 220),)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    for y0, x0, y1, x1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def test_matte_check_reasons():
    assert matte_problem(blob(), whole_subject=True) is None
    assert "almost nothing" in matte_problem(blob(boxes=((0, 0, 3, 3),)), whole_subject=True)
    assert "almost everything" in matte_problem(blob(boxes=((0, 0, 200, 290),)), whole_subject=False)
    pieces = blob(boxes=((20, 20, 60, 60), (20, 100, 60, 140), (120, 20, 160, 60), (120, 200, 160, 240)))
    assert "falls apart into 4 pieces" in matte_problem(pieces, whole_subject=True)
    assert matte_problem(pieces, whole_subject=False) is None  # letters of a logo cut by colour
    frame = blob(boxes=((5, 5, 195, 295),))  # runs right up to the band GrabCut was told is background
    assert "runs into the frame" in matte_problem(frame, whole_subject=True, frame_band=4)


def test_the_catalog_says_what_the_local_engine_can_do():
    op = next(o for o in catalog() if o["id"] == "remove_background")
    assert "For photos with busy backgrounds, a connected AI provider does better" in op["description"]
    engine = op["schema"]["properties"]["engine"]
    assert engine["x-enumDisabled"] == ["remote"]  # no provider here: greyed out
    assert "plain backgrounds" in engine["x-enumNames"][0] and "connected AI provider" in engine["description"]
