"""Each workflow operation on real images made in memory: exact sizes, formats, alpha, sizes, metadata."""

from __future__ import annotations

import io

import numpy as np
import pyexiv2
import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw

from app.services.assets.images import ImageRejected
from app.services.workflows import OpContext, OperationFailed, RemoteNotConfigured, run_operation
from app.services.workflows.codec import load_frame
from app.services.workflows.detect import detect_faces
from app.services.workflows.ops.geometry import SOCIAL_PRESETS
from app.services.workflows.ops.pixels import blur_regions
from tests import images
from tests.unit.test_vision_local import schematic_face

LANDSCAPE, PORTRAIT = images.jpeg(720, 480, seed=1), images.jpeg(480, 720, seed=2)
MAGIC = {"JPEG": lambda d: d[:3] == b"\xff\xd8\xff", "PNG": lambda d: d[:8] == b"\x89PNG\r\n\x1a\n",
         "WEBP": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP", "AVIF": lambda d: d[4:12] == b"ftypavif"}


def run(op: str, data: bytes, ctx: OpContext | None = None, **params):
    return run_operation(op_id=op, image=data, params=params, ctx=ctx)


def decode(output) -> Image.Image:
    image = Image.open(io.BytesIO(output.data))
    image.load()
    return image


def pixels(output_or_image) -> np.ndarray:
    image = output_or_image if isinstance(output_or_image, Image.Image) else decode(output_or_image)
    return np.asarray(image.convert("RGB")).astype(int)


def flat(colour=(120, 140, 160), size=(400, 300)) -> bytes:
    return images.encode(Image.new("RGB", size, colour), "PNG")


def object_on_plain(size=(480, 360)) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A red disc with a blue tab on a light grey backdrop, and masks of surely-object / surely-background."""
    w, h = size
    image = Image.new("RGB", size, (236, 236, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((w * 0.3, h * 0.25, w * 0.7, h * 0.75), fill=(200, 40, 40))
    draw.rectangle((w * 0.47, h * 0.15, w * 0.53, h * 0.3), fill=(30, 90, 200))
    yy, xx = np.mgrid[:h, :w]
    radius = ((xx - w / 2) / (w * 0.2)) ** 2 + ((yy - h / 2) / (h * 0.25)) ** 2
    inside = radius < 0.8
    outside = (radius > 1.25) & ~((xx > w * 0.44) & (xx < w * 0.56) & (yy > h * 0.12) & (yy < h * 0.33))
    return images.encode(image, "JPEG", quality=92), inside, outside


# --- resize, smart crop, social presets -----------------------------------------------------------

@pytest.mark.parametrize("fit", ["cover", "pad", "stretch"])
@pytest.mark.parametrize("source", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
@pytest.mark.parametrize("size", [(300, 200), (200, 300), (257, 257), (1000, 900)])
def test_cover_pad_and_stretch_give_exactly_the_size(fit, source, size):
    out = run("resize", source, width=size[0], height=size[1], fit=fit)[0]
    assert (out.width, out.height) == size and decode(out).size == size
    assert out.mime == "image/jpeg" and MAGIC["JPEG"](out.data)


@pytest.mark.parametrize("source, box, expected", [
    (LANDSCAPE, (300, 300), (300, 200)), (PORTRAIT, (300, 300), (200, 300)),
    (LANDSCAPE, (200, 900), (200, 133)), (PORTRAIT, (1440, 960), (640, 960))])
def test_contain_fits_inside_and_keeps_the_aspect(source, box, expected):
    out = run("resize", source, width=box[0], height=box[1], fit="contain")[0]
    assert decode(out).size == expected


def test_pad_fills_with_the_colour_and_a_clear_colour_makes_a_png():
    out = run("resize", LANDSCAPE, width=300, height=300, fit="pad", pad_color="#ff0000")[0]
    assert tuple(pixels(out)[5, 150]) == pytest.approx((254, 0, 0), abs=3)  # JPEG rounding
    clear = run("resize", LANDSCAPE, width=300, height=300, fit="pad", pad_color="#00000000")[0]
    assert clear.mime == "image/png" and "format_changed" in clear.info
    alpha = np.asarray(decode(clear).getchannel("A"))
    assert alpha[5, 150] == 0 and alpha[150, 150] == 255


def test_smart_crop_keeps_the_subject_where_centre_crop_loses_it():
    image = Image.new("RGB", (900, 400), (225, 228, 232))
    ImageDraw.Draw(image).ellipse((40, 120, 200, 280), fill=(210, 30, 30))
    data = images.encode(image, "PNG")
    smart = run("resize", data, width=400, height=400, fit="cover", crop="smart")[0]
    centre = run("resize", data, width=400, height=400, fit="cover", crop="center")[0]
    red = lambda out: ((pixels(out)[:, :, 0] > 150) & (pixels(out)[:, :, 1] < 80)).mean()  # noqa: E731
    assert red(smart) > 0.1 and red(centre) == 0
    assert smart.info["crop_box"][0] == 0 and smart.info["crop_box"][2] == 400


def test_smart_crop_prefers_a_face_over_a_bright_shape():
    image = Image.new("RGB", (1200, 400), (90, 120, 160))
    ImageDraw.Draw(image).rectangle((60, 100, 260, 300), fill=(250, 240, 20))
    image.paste(schematic_face(380), (800, 10))
    out = run("resize", images.encode(image, "PNG"), width=400, height=400, fit="cover", crop="smart")[0]
    x0, _, x1, _ = out.info["crop_box"]
    assert x0 <= 830 and x1 >= 1150  # the whole face is inside the crop


@pytest.mark.parametrize("preset", list(SOCIAL_PRESETS))
def test_social_presets_have_their_exact_sizes(preset):
    _, width, height = SOCIAL_PRESETS[preset]
    for source in (LANDSCAPE, PORTRAIT):
        out = run("social_preset", source, preset=preset)[0]
        assert (out.width, out.height) == (width, height) == decode(out).size


def test_documented_preset_sizes():
    sizes = {k: (w, h) for k, (_, w, h) in SOCIAL_PRESETS.items()}
    assert sizes["instagram_post"] == (1080, 1080) and sizes["instagram_story"] == (1080, 1920)
    assert sizes["instagram_portrait"] == (1080, 1350) and sizes["youtube_thumbnail"] == (1280, 720)
    assert sizes["x_header"] == (1500, 500) and sizes["open_graph"] == (1200, 630)


def test_jpeg_decodes_at_reduced_scale_only_when_asked():
    data = images.jpeg(2000, 1500, seed=5)
    assert load_frame(data, max_pixels=10**8).size == (2000, 1500)
    assert load_frame(data, max_pixels=10**8, decode_at=(480, 360)).size == (500, 375)  # 1/4, ≥ the request


def test_a_damaged_source_is_refused_in_plain_words():
    data = images.jpeg(800, 600, seed=6)
    for cut in (data[:len(data) // 2], data[:200]):  # cut while decoding, and cut in its header
        with pytest.raises(ImageRejected) as caught:
            load_frame(cut, max_pixels=10**8)
        assert caught.value.code == "corrupt_image" and "(" not in caught.value.message
        assert caught.value.message.startswith("The image is damaged or cut short. Re-export or re-download it")


# --- upscale, rotate / flip -----------------------------------------------------------------------

@pytest.mark.parametrize("factor", [2, 4])
def test_upscale_is_exactly_the_factor(factor):
    out = run("upscale", images.png(90, 60), factor=factor)[0]
    assert decode(out).size == (90 * factor, 60 * factor) and decode(out).mode == "RGBA"


def test_upscale_refuses_results_over_the_pixel_limit():
    with pytest.raises(OperationFailed, match=r"limit is 0\.1 MP"):
        run("upscale", images.png(200, 150), OpContext(max_output_pixels=100_000), factor=4)


def test_remote_upscale_needs_a_provider_and_is_held_to_the_exact_size():
    with pytest.raises(RemoteNotConfigured, match="needs a remote provider; none is configured"):
        run("upscale", images.png(80, 60), engine="remote")
    calls = []

    def provider(op_id, data, params):  # a super-resolution service that answers 1 px short, without alpha
        calls.append((op_id, params))
        image = Image.open(io.BytesIO(data)).convert("RGB")
        return images.encode(image.resize((image.width * 2 - 1, image.height * 2 - 1)), "PNG")

    out = run("upscale", images.png(80, 60), OpContext(remote=provider), engine="remote")[0]
    assert calls == [("upscale", {"factor": 2})]
    assert decode(out).size == (160, 120) and decode(out).mode == "RGBA" and out.info["resized_from"] == [159, 119]


@pytest.mark.parametrize("angle, size", [(90, (480, 720)), (180, (720, 480)), (270, (480, 720)), (-90, (480, 720)),
                                         (0, (720, 480))])
def test_right_angle_rotations(angle, size):
    assert decode(run("rotate_flip", LANDSCAPE, angle=angle)[0]).size == size


def test_free_rotation_grows_the_canvas_or_keeps_it():
    grown = decode(run("rotate_flip", flat(size=(400, 200)), angle=30)[0])
    assert grown.width > 400 and grown.height > 200
    kept = run("rotate_flip", flat(size=(400, 200)), angle=30, expand=False, background="#00000000")[0]
    assert decode(kept).size == (400, 200) and np.asarray(decode(kept).getchannel("A"))[0, 0] == 0


def test_free_rotation_refuses_a_canvas_over_the_pixel_limit():
    with pytest.raises(OperationFailed, match=r"limit is 0\.2 MP"):
        run("rotate_flip", flat(size=(400, 400)), OpContext(max_output_pixels=200_000), angle=45)


def test_flip_mirrors_and_rotation_is_clockwise():
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    image.paste((255, 0, 0), (0, 0, 10, 10))  # red square top-left
    data = images.encode(image, "PNG")
    assert tuple(pixels(run("rotate_flip", data, flip="horizontal")[0])[0, 39]) == (255, 0, 0)
    assert tuple(pixels(run("rotate_flip", data, angle=90)[0])[0, 19]) == (255, 0, 0)  # top-left → top-right


def test_exif_orientation_is_applied_on_reading():
    data = images.jpeg(300, 200, exif=images.exif_with_orientation(6))
    out = run("rotate_flip", data)[0]
    assert decode(out).size == (200, 300) and decode(out).getexif().get(ExifTags.Base.Orientation) == 1


# --- remove background ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["grabcut", "saliency"])
def test_background_becomes_transparent_and_the_object_stays(method):
    data, inside, outside = object_on_plain()
    out = run("remove_background", data, method=method)[0]
    assert out.mime == "image/png" and MAGIC["PNG"](out.data)
    alpha = np.asarray(decode(out).getchannel("A"))
    assert decode(out).mode == "RGBA" and alpha.shape == inside.shape
    assert (alpha[inside] == 255).mean() > 0.97 and (alpha[outside] == 0).mean() > 0.97


def test_background_removal_as_webp_cropped_to_the_subject():
    data, _, _ = object_on_plain()
    out = run("remove_background", data, format="webp", crop_to_subject=True)[0]
    image = decode(out)
    assert out.mime == "image/webp" and image.mode == "RGBA" and MAGIC["WEBP"](out.data)
    assert image.size == tuple(np.subtract(out.info["crop_box"][2:], out.info["crop_box"][:2]))
    assert 185 <= image.width <= 205 and 205 <= image.height <= 228  # the disc (192×180) and its tab above


def test_remote_background_removal_must_return_transparency():
    def provider(op_id, data, params):
        return data  # a JPEG: no alpha

    with pytest.raises(OperationFailed, match="without transparency"):
        run("remove_background", object_on_plain()[0], OpContext(remote=provider), engine="remote")


# --- convert, compress, strip metadata ------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_convert_writes_the_format(fmt):
    out = run("convert", LANDSCAPE, format=fmt, quality=70)[0]
    assert MAGIC[fmt.upper()](out.data) and decode(out).format == fmt.upper() and decode(out).size == (720, 480)
    assert out.ext == {"jpeg": "jpg"}.get(fmt, fmt) and out.info.get("quality") == (None if fmt == "png" else 70)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_compress_to_a_target_size_lowers_quality_only(fmt):
    out = run("convert", images.jpeg(480, 320, seed=1), format=fmt, quality=95, target_kb=12)[0]
    assert len(out.data) <= 12_000 and decode(out).size == (480, 320)
    assert 30 <= out.info["quality"] < 95 and "downscaled_to" not in out.info


def test_unreachable_target_shrinks_or_fails_as_chosen():
    noisy = images.jpeg(720, 480, seed=9)
    out = run("convert", noisy, format="jpeg", target_kb=8, min_quality=40)[0]
    assert len(out.data) <= 8_000 and out.info["quality"] == 40
    assert decode(out).size == tuple(out.info["downscaled_to"]) and decode(out).width < 720 and "note" in out.info
    with pytest.raises(OperationFailed, match="8 KB or smaller at quality 40"):
        run("convert", noisy, format="jpeg", target_kb=8, min_quality=40, allow_downscale=False)


def test_png_target_reduces_colours_before_shrinking():
    out = run("convert", images.png(300, 200), format="png", target_kb=40)[0]  # 52 KB as it is
    assert len(out.data) <= 40_000 and "downscaled_to" not in out.info
    assert out.info["colours_reduced_to"] == 256 and MAGIC["PNG"](out.data)


def test_jpeg_from_transparency_is_flattened_on_the_chosen_colour():
    image = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (30, 0, 60, 40))
    out = run("convert", images.encode(image, "PNG"), format="jpeg", background="#ff0000", quality=95)[0]
    rgb = pixels(out)
    assert tuple(rgb[20, 5]) == pytest.approx((254, 0, 0), abs=3) and tuple(rgb[20, 50]) == pytest.approx(
        (0, 0, 254), abs=3) and out.info["flattened"] is True


def with_metadata(data: bytes) -> bytes:
    with pyexiv2.ImageData(data) as meta:
        meta.modify_exif({"Exif.Image.Make": "Atelier Cam", "Exif.Image.Artist": "Jo",
                          "Exif.GPSInfo.GPSLatitudeRef": "N", "Exif.Photo.DateTimeOriginal": "2024:05:01 10:00:00"})
        meta.modify_xmp({"Xmp.dc.creator": ["Jo"], "Xmp.dc.description": {'lang="x-default"': "secret"}})
        if data[:2] == b"\xff\xd8":
            meta.modify_iptc({"Iptc.Application2.Keywords": ["home"]})
            meta.modify_comment("a comment")
        return meta.get_bytes()


def read_metadata(data: bytes) -> dict:
    with pyexiv2.ImageData(data) as meta:
        return {"exif": meta.read_exif(), "xmp": meta.read_xmp(), "iptc": meta.read_iptc(),
                "comment": meta.read_comment() if data[:2] == b"\xff\xd8" else ""}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_strip_metadata_leaves_none(fmt):
    source = with_metadata(images.encode(images.photo(320, 240), fmt, **({"quality": 90} if fmt != "PNG" else {})))
    before = read_metadata(source)
    assert before["exif"] and before["xmp"]
    out = run("strip_metadata", source)[0]
    assert read_metadata(out.data) == {"exif": {}, "xmp": {}, "iptc": {}, "comment": ""}
    assert decode(out).format == fmt and b"Atelier Cam" not in out.data and b"secret" not in out.data
    if fmt in ("JPEG", "WEBP"):  # lossless: the same compressed pixels
        assert out.info["lossless"] and np.array_equal(pixels(out), pixels(Image.open(io.BytesIO(source))))


def test_strip_applies_the_orientation_before_removing_it():
    out = run("strip_metadata", images.jpeg(300, 200, exif=images.exif_with_orientation(6)))[0]
    assert decode(out).size == (200, 300) and read_metadata(out.data)["exif"] == {} and not out.info["lossless"]


def test_strip_drops_trailing_data_and_keeps_the_colour_profile_unless_told():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = with_metadata(images.encode(images.photo(200, 150), "JPEG", icc_profile=icc)) + b"APPENDED-PAYLOAD"
    kept = run("strip_metadata", source)[0]
    assert decode(kept).info.get("icc_profile") == icc and b"APPENDED-PAYLOAD" not in kept.data
    dropped = run("strip_metadata", source, keep_icc=False)[0]
    assert "icc_profile" not in decode(dropped).info and read_metadata(dropped.data)["exif"] == {}


def test_re_encodes_carry_exif_without_thumbnail_and_strip_after_them_removes_it():
    source = with_metadata(images.jpeg(400, 300))
    with pyexiv2.ImageData(source) as meta:
        meta.modify_thumbnail(images.encode(Image.new("RGB", (80, 60), (255, 0, 0)), "JPEG"))
        source = meta.get_bytes()
    resized = run("resize", source, width=200, height=150)[0]
    exif = decode(resized).getexif()
    assert exif[ExifTags.Base.Make] == "Atelier Cam" and not exif.get_ifd(ExifTags.IFD.IFD1)


# --- watermark, adjust, blur faces, palette -------------------------------------------------------

def test_text_watermark_changes_only_its_corner():
    source = flat(size=(600, 400))
    out = run("watermark", source, kind="text", text="© Atelier", position="bottom-right", opacity=80)[0]
    before, after = pixels(Image.open(io.BytesIO(source))), pixels(out)
    changed = np.any(before != after, axis=2)
    assert changed[300:, 400:].sum() > 500  # bottom-right: the mark
    assert not changed[:250, :].any() and not changed[:, :350].any()  # everywhere else byte-identical
    width = np.flatnonzero(changed.any(axis=0))
    assert 130 <= width[-1] - width[0] <= 170 and 600 - width[-1] >= 10  # 25 % of the width, inside the margin


def test_logo_watermark_from_assets_and_tiled_marks():
    logo = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rectangle((10, 10, 90, 40), fill=(255, 0, 0, 255))
    ctx = OpContext(assets={"asset-7": images.encode(logo, "PNG")})
    out = run("watermark", flat(size=(600, 400)), ctx, kind="logo", logo="asset-7", position="top-left", opacity=100)
    rgb = pixels(out[0])
    assert tuple(rgb[30, 40]) == pytest.approx((255, 0, 0), abs=2) and tuple(rgb[300, 500]) == (120, 140, 160)
    with pytest.raises(OperationFailed, match="was not provided"):
        run("watermark", flat(), kind="logo", logo="asset-8")
    tiled = run("watermark", flat(size=(600, 400)), kind="text", text="DRAFT", position="tiled", scale=10)[0]
    changed = np.any(pixels(tiled) != 0, axis=2) & np.any(pixels(tiled) != (120, 140, 160), axis=2)
    quadrants = [changed[:200, :300], changed[:200, 300:], changed[200:, :300], changed[200:, 300:]]
    assert tiled.info["marks"] > 10 and all(q.sum() > 100 for q in quadrants)


def saturation(image: Image.Image) -> float:
    return float(np.asarray(image.convert("HSV"))[:, :, 1].mean())


@pytest.mark.parametrize("setting, low, high", [("brightness", 0.6, 1.4), ("contrast", 0.6, 1.4),
                                                ("saturation", 0.3, 1.6), ("sharpness", 0.2, 2.5)])
def test_adjust_moves_the_measure_in_the_chosen_direction(setting, low, high):
    source = images.png(240, 160, seed=3)
    measure = {"brightness": lambda im: pixels(im).mean(), "contrast": lambda im: pixels(im).std(),
               "saturation": saturation,
               "sharpness": lambda im: np.abs(np.diff(pixels(im).astype(float), axis=1)).mean()}[setting]
    base = measure(Image.open(io.BytesIO(source)))
    assert measure(decode(run("adjust", source, **{setting: low})[0])) < base
    assert measure(decode(run("adjust", source, **{setting: high})[0])) > base


def test_adjust_keeps_transparency_and_neutral_settings_change_nothing():
    source = images.png(120, 80)
    assert run("adjust", source)[0].data == source
    alpha = Image.open(io.BytesIO(source)).getchannel("A")
    out = decode(run("adjust", source, brightness=0.5, saturation=0)[0])
    assert out.getchannel("A").tobytes() == alpha.tobytes() and saturation(out) < 1


def test_blur_faces_hides_a_detected_face():
    image = Image.new("RGB", (900, 500), (90, 120, 160))
    image.paste(schematic_face(420), (40, 40))
    out = run("blur_faces", images.encode(image, "PNG"))[0]
    assert out.info["faces"] == 1
    x0, y0, x1, y1 = out.info["boxes"][0]
    before, after = pixels(image), pixels(out)
    detail = lambda a: np.abs(np.diff(a[y0:y1, x0:x1], axis=0)).mean()  # noqa: E731 (edges of eyes, mouth…)
    assert detail(after) < detail(before) / 4 and detect_faces(decode(out)) == []
    assert np.array_equal(before[:, 700:], after[:, 700:])


def test_blur_faces_on_a_picture_without_faces_changes_nothing():
    source = flat(size=(500, 400))
    out = run("blur_faces", source)[0]
    assert out.info["faces"] == 0 and out.data == source


@pytest.mark.parametrize("method", ["gaussian", "pixelate"])
def test_blur_regions_change_only_the_given_box(method):
    image = Image.fromarray(np.random.default_rng(4).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    out = blur_regions(image, [(100, 80, 200, 180)], method=method, strength=80, padding=0, shape="rectangle")
    diff = np.any(pixels(image) != pixels(out), axis=2)
    assert diff[85:175, 105:195].mean() > 0.9 and not diff[:80].any() and not diff[:, 200:].any()


def test_palette_finds_the_known_colours_with_their_shares():
    image = Image.new("RGB", (400, 200), (255, 0, 0))
    image.paste((0, 0, 255), (200, 0, 400, 200))
    image.paste((0, 200, 0), (0, 150, 200, 200))
    swatch, document = run("palette", images.encode(image, "PNG"), colors=3, swatch_width=300, swatch_height=60)
    colours = swatch.info["colours"]
    assert [(c["hex"], round(c["share"], 2)) for c in colours] == [("#0000ff", 0.5), ("#ff0000", 0.38),
                                                                  ("#00c800", 0.12)]
    assert swatch.mime == "image/png" and decode(swatch).size == (300, 60)
    assert tuple(pixels(swatch)[5, 5]) == (0, 0, 255) and tuple(pixels(swatch)[5, 295]) == (0, 200, 0)
    assert document.mime == "application/json" and b'"#ff0000"' in document.data


# --- input limits ---------------------------------------------------------------------------------

def test_bad_and_oversized_inputs_are_refused_before_decoding():
    with pytest.raises(ImageRejected) as refused:
        run("adjust", b"not an image")
    assert refused.value.code == "unsupported_type"
    with pytest.raises(ImageRejected) as bomb:
        run("adjust", images.pixel_flood_png())
    assert bomb.value.code == "too_many_pixels"
    with pytest.raises(ImageRejected, match=r"limit is 0\.1 megapixels"):
        run("adjust", LANDSCAPE, OpContext(max_input_pixels=100_000))
