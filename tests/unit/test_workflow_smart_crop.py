"""Smart crop for social sizes on the pictures designers bring: faces whole, logos padded not cropped,
enlargement said out loud (or refused), photos written as photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.services.workflows import OperationFailed, run_operation
from app.services.workflows.codec import is_graphic
from app.services.workflows.detect import detect_faces
from tests import images
from tests import workflow_pictures as pics
from tests.unit.test_vision_local import schematic_face


def social(data: bytes, preset: str = "instagram_post", **params):
    return run_operation(op_id="social_preset", image=data, params={"preset": preset, **params})[0]


def decode(out) -> Image.Image:
    image = Image.open(io.BytesIO(out.data))
    image.load()
    return image


def face_beside_a_bright_sign() -> tuple[bytes, tuple[int, int, int, int]]:
    """1500×500: a face on the left of centre, a big saturated sign right next to it; and the face box."""
    image = pics.gradient_backdrop(1500, 500)
    image.paste(schematic_face(420), (330, 40))
    ImageDraw.Draw(image).rectangle((760, 30, 1400, 470), fill=(250, 230, 10))
    data = images.encode(image, "PNG")
    (face,) = detect_faces(Image.open(io.BytesIO(data)), side=640, profiles=False, min_fraction=1 / 30)
    return data, face


def test_a_face_is_kept_whole_with_a_margin():
    data, (fx0, _, fx1, _) = face_beside_a_bright_sign()
    out = social(data)  # a 500×500 window out of 1500×500
    x0, _, x1, _ = out.info["crop_box"]
    margin = (fx1 - fx0) * 0.2
    assert x0 <= fx0 - margin and x1 >= fx1 + margin, (out.info["crop_box"], (fx0, fx1))
    assert out.info["faces_kept"] == 1 and "padded" not in out.info


def test_faces_that_cannot_fit_together_are_padded_not_cut():
    image = pics.gradient_backdrop(1800, 450)
    image.paste(schematic_face(400), (20, 25))
    image.paste(schematic_face(400), (1380, 25))
    out = social(images.encode(image, "PNG"), preset="instagram_post", pad_color="#102030")
    result = np.asarray(decode(out).convert("RGB")).astype(int)
    assert "2 faces" in out.info["padded"] and out.info["faces_kept"] == 2
    assert out.info["warnings"] == [f"Padded, not cropped: {out.info['padded']}."]
    assert len(detect_faces(decode(out), profiles=False)) == 2  # both still there, whole
    assert np.abs(result[5, 540] - (16, 32, 48)).max() < 4  # the padding has the chosen colour


def test_a_logo_is_padded_with_its_background_not_cropped():
    out = social(pics.logo())  # 600×300 into a square: a crop would cut off letters
    result = np.asarray(decode(out).convert("RGB")).astype(int)
    assert "plain background" in out.info["padded"]
    assert not any(w.startswith("Padded") for w in out.info["warnings"])  # expected for a logo: no warning
    assert out.info["enlarged"] == 1.8  # a 600-px logo for 1080 px: that one is said
    assert out.info["crop_box"] == [0, -150, 600, 450]
    for y, x in ((5, 5), (5, 1075), (1075, 540)):  # the padding is the logo's own blue
        assert np.abs(result[y, x] - pics.LOGO_BACKGROUND).max() <= 3
    ink = np.abs(result - pics.LOGO_INK).max(axis=2) < 30
    columns = np.nonzero(ink.any(axis=0))[0]
    assert columns.min() < 160 and columns.max() > 930  # from the O to the L's foot: every letter is in
    assert out.mime == "image/png"  # few colours: a graphic stays lossless


def test_a_product_whose_backdrop_can_be_trimmed_is_cropped_around_it():
    out = social(pics.product_on_white())  # 640×480 into a square: the bottle (x 240..400) fits in 480
    x0, y0, x1, y1 = out.info["crop_box"]
    assert "padded" not in out.info and (y0, y1) == (0, 480) and x0 <= 230 and x1 >= 410


def test_enlargement_past_one_and_a_half_times_warns_and_can_be_refused():
    small = images.jpeg(512, 512, seed=4)
    out = social(small, preset="instagram_story")  # a 288×512 window to 1080×1920: 3.75×
    assert out.info["enlarged"] == 3.75
    (warning,) = out.info["warnings"]
    assert "3.8×" in warning and "288×512" in warning
    with pytest.raises(OperationFailed, match=r"enlarge the picture 3\.8×") as caught:
        social(small, preset="instagram_story", allow_upscale=False)
    assert caught.value.code == "enlargement_refused"
    assert "warnings" not in social(images.jpeg(1400, 1400, seed=4)).info


def test_resize_warns_about_enlargement_too():
    out = run_operation(op_id="resize", image=images.jpeg(400, 300, seed=1), params={"width": 1200, "height": 900})[0]
    assert out.info["enlarged"] == 3.0 and out.info["warnings"]


def test_photos_are_written_as_photos_and_graphics_as_png():
    photo_png = images.encode(images.photo(1600, 1200, seed=3), "PNG")
    out = social(photo_png)
    assert out.mime == "image/jpeg" and len(out.data) < 400_000
    assert social(photo_png, format="png").mime == "image/png"
    cut = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    ImageDraw.Draw(cut).ellipse((250, 150, 550, 450), fill=(200, 30, 30, 255))
    clear = social(images.encode(cut, "PNG"))
    assert clear.mime == "image/png" and decode(clear).getchannel("A").getextrema() == (0, 255)
    assert clear.info["crop_box"][1] <= 150 and clear.info["crop_box"][3] >= 450  # the disc is whole


def test_graphic_or_photo():
    assert is_graphic(Image.open(io.BytesIO(pics.logo())))
    assert not is_graphic(images.photo(640, 480, seed=1))
    assert not is_graphic(Image.open(io.BytesIO(pics.subject_on_busy_background())))


@pytest.mark.parametrize("aspect", [1.0, 4 / 5, 9 / 16])
def test_a_real_cat_close_up_is_never_cut_through_an_eye(aspect):
    """A crop edge may leave an eye out, but never pass through one (a 9:16 of a wide close-up cannot
    hold both eyes: it keeps one whole)."""
    from app.services.workflows.smart_crop import plan_smart
    from tests import real_photos

    x0, _, x1, _ = plan_smart(real_photos.image(real_photos.CAT), aspect, pad=(255, 255, 255, 255)).box
    kept = 0
    for ex0, _, ex1, _ in real_photos.CAT_EYES:
        inside, outside = x0 <= ex0 and ex1 <= x1, ex1 <= x0 or x1 <= ex0
        assert inside or outside, f"the crop {x0:.0f}–{x1:.0f} cuts the eye at {ex0}–{ex1}"
        kept += inside
    assert kept >= 1


def wide_product(x0: int = 120, x1: int = 1380) -> bytes:
    """1500×800: a long red product with two dark wheels on a noisy gradient (not a flat backdrop)."""
    image = pics.gradient_backdrop(1500, 800)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((x0, 330, x1, 560), 60, fill=(200, 30, 30))
    for cx in (x0 + 200, x1 - 200):
        draw.ellipse((cx - 90, 500, cx + 90, 680), fill=(20, 20, 20))
    return images.encode(image, "PNG")


def test_a_subject_wider_than_the_shape_is_fitted_and_padded_with_a_note():
    out = social(wide_product(), preset="instagram_story", pad_color="#000000")  # 9:16 of a 1500-wide car
    x0, _, x1, _ = out.info["crop_box"]
    assert x0 <= 120 + 60 and x1 >= 1380 - 60, out.info["crop_box"]  # the whole product is in the picture
    assert "wider than a crop of this shape" in out.info["padded"]
    assert out.info["warnings"] == [f"Padded, not cropped: {out.info['padded']}."]
    result = np.asarray(decode(out).convert("RGB")).astype(int)
    assert result[5, 540].max() < 12 and result[-5, 540].max() < 12  # bars of the chosen color


def test_a_subject_that_fits_the_shape_is_still_cropped_around_it():
    out = social(wide_product(x0=600, x1=900), preset="instagram_story")
    x0, y0, x1, y1 = out.info["crop_box"]
    assert "padded" not in out.info and (y0, y1) == (0, 800) and x0 <= 600 - 40 and x1 >= 900 + 40


def test_a_real_cup_wider_than_a_story_is_fitted_whole_and_a_scene_of_many_things_is_still_cropped():
    """The espresso cup (x 172..425 with its spoon, measured by eye) is wider than a 9:16 window of the
    600×400 photo (225 px): it is fitted whole. Scattered shapes with no one subject are cropped."""
    from app.services.workflows.smart_crop import plan_smart
    from tests import real_photos

    plan = plan_smart(real_photos.image(real_photos.COFFEE), 9 / 16, pad=(255, 255, 255, 255))
    x0, _, x1, _ = plan.box
    assert x0 <= 172 and x1 >= 420 and plan.warn and "wider" in plan.reason, plan
    for seed in (2, 5):  # several shapes of like weight: a scene
        scene = plan_smart(images.photo(900, 600, seed=seed), 9 / 16, pad=(255, 255, 255, 255))
        assert not scene.reason and scene.box[2] - scene.box[0] < 340
