"""The local design engine: determinism, colour and negative words, type that fits, sizes, provider API."""

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.services.generation.base import GenerationRequest, ProviderError
from app.services.generation.local.engine import (
    FAMILIES,
    LocalDesignEngine,
    render,
    render_design,
)
from app.services.generation.local.palette import (
    lch_to_rgb,
    read_colour_words,
    rgb_to_lch,
    words_of,
)
from app.services.generation.local.typography import (
    FALLBACK,
    FONT_DIR,
    FONTS,
    drawable,
    fit_text,
    load_font,
    quoted_texts,
)

ROOT = Path(__file__).resolve().parents[2]


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def hue_share(image: Image.Image, lo: int, hi: int) -> float:
    """Share of clearly coloured pixels whose HSV hue (degrees) lies in lo..hi (wrapping past 360)."""
    hsv = np.asarray(image.convert("HSV"), dtype=np.float32)
    hue, sat, val = hsv[..., 0] * 360 / 255, hsv[..., 1] / 255, hsv[..., 2] / 255
    coloured = (sat > 0.35) & (val > 0.25)
    inside = (hue >= lo) & (hue <= hi) if lo <= hi else (hue >= lo) | (hue <= hi)
    return float((coloured & inside).mean())


# --- determinism ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt", ["a calm forest morning, watercolor", 'poster "Blue Notes" neon',
                                    "3d render of playful pastel shapes", 'logo "Kettle & Co" coffee'])
def test_same_prompt_and_seed_give_identical_pixels(prompt):
    a = render(prompt=prompt, width=384, height=384, seed=42)
    b = render(prompt=prompt, width=384, height=384, seed=42)
    assert a.mode == "RGB"
    assert a.tobytes() == b.tobytes()


def test_a_fresh_process_with_another_hash_seed_renders_the_same_bytes():
    prompt = 'retro poster "Summer Fest" in the desert'
    here = hashlib.sha256(render(prompt=prompt, width=256, height=256, seed=9).tobytes()).hexdigest()
    code = ("import hashlib; from app.services.generation.local.engine import render; "
            f"print(hashlib.sha256(render(prompt={prompt!r}, width=256, height=256, seed=9).tobytes()).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == here


@pytest.mark.parametrize("prompt", ["abstract shapes", "a city skyline at night", "watercolor flowers"])
def test_different_seeds_give_visibly_different_designs(prompt):
    a = pixels(render(prompt=prompt, width=256, height=256, seed=1))
    b = pixels(render(prompt=prompt, width=256, height=256, seed=2))
    assert np.abs(a - b).mean() > 8  # out of 255: not grain, a different design


def test_every_family_is_reachable_and_renders():
    prompts = {"mesh": "abstract gradient", "bauhaus": "bauhaus", "tiles": "seamless tile pattern",
               "radial": "concentric circles", "waves": "paper-cut waves", "neon": "neon synthwave",
               "retro": "retro sunburst", "minimal": "minimalist", "landscape": "mountains at dawn",
               "watercolor": "watercolor painting", "iso": "isometric 3d render"}
    assert set(prompts) == set(FAMILIES)
    for family, prompt in prompts.items():
        design = render_design(prompt=prompt, width=256, height=256, seed=3)
        assert design.family == family, prompt
        assert pixels(design.image).std() > 5, f"{family} drew next to nothing"


# --- colour words --------------------------------------------------------------------------------------

def test_colour_words_move_the_palette():
    blue = [render(prompt="deep ocean blue", width=256, height=256, seed=s) for s in range(3)]
    red = [render(prompt="fiery red sunset", width=256, height=256, seed=s) for s in range(3)]
    blue_in_blue = np.mean([hue_share(im, 180, 260) for im in blue])
    blue_in_red = np.mean([hue_share(im, 180, 260) for im in red])
    warm_in_red = np.mean([hue_share(im, 330, 45) for im in red])
    warm_in_blue = np.mean([hue_share(im, 330, 45) for im in blue])
    assert blue_in_blue > 0.3 and blue_in_blue > 5 * blue_in_red
    assert warm_in_red > 0.3 and warm_in_red > 5 * warm_in_blue


@pytest.mark.parametrize("prompt,negative", [("bright red roses, bold shapes", "red"),
                                             ("bright red roses, bold shapes, no red", "")])
def test_negative_words_remove_a_colour(prompt, negative):
    base = "bright red roses, bold shapes"
    seeds = range(4)
    with_red = np.mean([hue_share(render(prompt=base, width=256, height=256, seed=s), 340, 15) for s in seeds])
    without = np.mean([hue_share(render(prompt=prompt, width=256, height=256, seed=s, negative_prompt=negative),
                                 340, 15) for s in seeds])
    assert with_red > 0.05
    assert without < 0.01


def test_mood_words_set_light_or_dark_grounds():
    dark = read_colour_words(words_of("a dark moody scene"), [])
    light = read_colour_words(words_of("a bright airy scene"), [])
    assert dark.mood.light < 0 < light.mood.light
    banned = read_colour_words(words_of("dark moody scene"), ["dark"])
    assert "dark" not in banned.mood_words


def test_oklch_round_trip_and_gamut_mapping():
    for rgb in [(0.8, 0.2, 0.1), (0.1, 0.5, 0.9), (0.95, 0.95, 0.9)]:
        back = lch_to_rgb(rgb_to_lch(rgb))
        assert np.allclose(back, rgb, atol=2e-3)
    wild = lch_to_rgb((0.6, 0.4, 140))  # far outside sRGB: chroma is reduced, hue and lightness kept
    assert all(0 <= c <= 1 for c in wild)
    assert abs(rgb_to_lch(wild)[0] - 0.6) < 0.01 and abs(rgb_to_lch(wild)[2] - 140) < 3


# --- type ----------------------------------------------------------------------------------------------

def test_quoted_text_is_found_in_all_quote_styles_and_apostrophes_are_not_quotes():
    assert quoted_texts('poster "Blue Notes" and “Friday 9pm” and \'Live\'') == ["Blue Notes", "Friday 9pm", "Live"]
    assert quoted_texts("the artist's studio, don't print this") == []
    assert quoted_texts('empty "   " quotes') == []


def test_quoted_text_is_drawn_inside_its_box_and_nothing_else_changes():
    a = render_design(prompt='poster for a concert "HELLO THERE"', width=512, height=512, seed=5)
    b = render_design(prompt='poster for a concert "GOODBYE NOW"', width=512, height=512, seed=5)
    assert a.texts == ("HELLO THERE",) and len(a.text_boxes) == 1
    diff = np.abs(pixels(a.image) - pixels(b.image)).max(axis=2) > 0
    assert diff.sum() > 500  # the words themselves differ
    ys, xs = np.nonzero(diff)
    margin = 0.12 * 512  # glow, halo or panel around the type
    boxes = a.text_boxes + b.text_boxes
    x0, y0 = min(bx[0] for bx in boxes) - margin, min(bx[1] for bx in boxes) - margin
    x1, y1 = max(bx[2] for bx in boxes) + margin, max(bx[3] for bx in boxes) + margin
    assert xs.min() >= x0 and xs.max() <= x1 and ys.min() >= y0 and ys.max() <= y1


def test_no_quotes_means_no_type():
    design = render_design(prompt="poster for a concert HELLO THERE", width=256, height=256, seed=5)
    assert design.texts == () and design.text_boxes == ()


LONG = "An extraordinarily long headline " * 12


@pytest.mark.parametrize("prompt", [f'poster "{LONG}"', f'logo "{LONG}"', f'wedding invitation "{LONG}"',
                                    f'neon synthwave "{LONG}"', f'mountains at dawn "{LONG}"',
                                    f'"{"W" * 120}"', f'3d render "Title" "{LONG}"'])
@pytest.mark.parametrize("size", [(256, 256), (1024, 256), (256, 768)])
def test_long_text_always_fits_the_canvas(prompt, size):
    width, height = size
    design = render_design(prompt=prompt, width=width, height=height, seed=11)
    assert design.text_boxes
    for x0, y0, x1, y1 in design.text_boxes:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


def test_a_headline_is_never_split_inside_a_word_when_a_smaller_size_fits():
    fitted = fit_text("SUMMER FEST", FONTS["display"][0], 200, 400, max_size=400, min_size=10)
    assert fitted.lines == ("SUMMER", "FEST")
    assert load_font(fitted.filename, fitted.size).getlength("SUMMER") <= 200


def test_characters_no_font_has_are_left_out_not_drawn_as_boxes():
    assert drawable("Café", FONTS["sans"][0], FALLBACK[0]) == (FONTS["sans"][0], "Café")
    assert drawable("日本 Café", FONTS["sans"][0], FALLBACK[0]) == (FALLBACK[0], "Café")
    only_cjk = render_design(prompt='poster "日本"', width=256, height=256, seed=1)
    assert only_cjk.text_boxes == ()
    mixed = render_design(prompt='poster "日本 Café"', width=256, height=256, seed=1)
    assert len(mixed.text_boxes) == 1


def test_every_shipped_font_loads():
    for headline, secondary in FONTS.values():
        for name in (headline, secondary):
            assert (FONT_DIR / name).is_file()
            assert load_font(name, 24).getlength("Atelier") > 0


# --- sizes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(256, 256), (512, 1024), (1024, 512), (2048, 256), (256, 2048), (768, 1344)])
def test_output_has_exactly_the_requested_size(size):
    image = render(prompt='landscape poster "Size" with a lake', width=size[0], height=size[1], seed=1)
    assert image.size == size and image.mode == "RGB"


@pytest.mark.parametrize("width,height", [(255, 256), (250, 256), (128, 128), (2056, 1024), (1024, 4096)])
def test_render_refuses_sizes_it_does_not_make(width, height):
    with pytest.raises(ProviderError) as info:
        render(prompt="x", width=width, height=height, seed=1)
    assert info.value.code == "bad_request"


# --- provider ------------------------------------------------------------------------------------------

def test_provider_declares_its_capabilities():
    engine = LocalDesignEngine()
    caps = engine.capabilities
    assert (engine.name, engine.label, engine.max_concurrency) == ("local", "Local design engine (offline)", 1)
    assert (caps.negative_prompt, caps.seed, caps.max_n, caps.min_side, caps.max_side, caps.size_multiple,
            caps.steps, caps.cancel, caps.models) == (True, True, 4, 256, 2048, 8, True, True, ("procedural-v1",))


def test_submit_status_result_round_trip():
    engine = LocalDesignEngine()
    request = GenerationRequest(prompt='flat vector city skyline at sunset "Downtown"', width=320, height=256,
                                n=3, seed=100)
    handle = engine.submit(request)
    assert set(handle) == {"local"}
    steps = []
    while (status := engine.status(handle)).state == "running":
        steps.append((status.step, status.steps))
    assert status.state == "succeeded" and (status.step, status.steps) == (3, 3)
    assert steps == [(1, 3), (2, 3)]
    images = engine.result(handle)
    assert [im.seed for im in images] == [100, 101, 102]
    assert len({im.data for im in images}) == 3
    for im in images:
        assert im.mime == "image/png"
        decoded = Image.open(io.BytesIO(im.data))
        decoded.load()
        assert decoded.size == (320, 256) and decoded.mode == "RGB"
        alone = render(prompt=request.prompt, width=320, height=256, seed=im.seed)
        assert decoded.tobytes() == alone.tobytes()  # each image is reproducible on its own seed
    with pytest.raises(ProviderError) as info:
        engine.status(handle)  # collected results are forgotten
    assert info.value.code == "not_found"


def test_result_renders_whatever_status_has_not():
    engine = LocalDesignEngine()
    handle = engine.submit(GenerationRequest(prompt="tile pattern", width=256, height=256, n=2, seed=7))
    assert len(engine.result(handle)) == 2


def test_cancel_stops_the_remaining_images():
    engine = LocalDesignEngine()
    handle = engine.submit(GenerationRequest(prompt="neon shapes", width=256, height=256, n=4, seed=1))
    assert engine.status(handle).step == 1
    assert engine.cancel(handle) is True
    assert engine.status(handle).state == "canceled"
    with pytest.raises(ProviderError) as info:
        engine.result(handle)
    assert info.value.code == "canceled"


def test_a_render_failure_is_reported_as_a_provider_error(monkeypatch):
    from app.services.generation.local import engine as local_engine

    def broken(**_kwargs):
        raise RuntimeError("out of ink")

    engine = LocalDesignEngine()
    handle = engine.submit(GenerationRequest(prompt="tiles", width=256, height=256, n=2, seed=1))
    monkeypatch.setattr(local_engine, "render", broken)
    status = engine.status(handle)
    assert (status.state, status.error_code) == ("failed", "provider_error")
    assert "out of ink" in status.message
    with pytest.raises(ProviderError) as info:
        engine.result(handle)
    assert info.value.code == "provider_error"


@pytest.mark.parametrize("method", ["status", "result", "cancel"])
def test_unknown_handles_are_not_found(method):
    with pytest.raises(ProviderError) as info:
        getattr(LocalDesignEngine(), method)({"local": "nope"})
    assert info.value.code == "not_found"


@pytest.mark.parametrize("changes", [
    {"prompt": ""}, {"prompt": "   "}, {"prompt": "x" * 2001}, {"negative_prompt": "x" * 2001},
    {"n": 0}, {"n": 5}, {"width": 250}, {"width": 128}, {"height": 4096}, {"height": 1020},
    {"seed": -1}, {"seed": 2**32}, {"model": "sdxl"},
])
def test_bad_requests_are_refused(changes):
    fields = {"prompt": "a calm lake", "width": 512, "height": 512, "n": 1, "seed": 1, **changes}
    with pytest.raises(ProviderError) as info:
        LocalDesignEngine().submit(GenerationRequest(**fields))
    assert info.value.code == "bad_request"
    assert info.value.message  # says which rule was broken


def test_the_only_model_and_the_default_are_accepted():
    engine = LocalDesignEngine()
    for model in ("", "procedural-v1"):
        handle = engine.submit(GenerationRequest(prompt="minimal", width=256, height=256, model=model))
        assert engine.status(handle).state == "succeeded"


# --- the prompt's subject, drawn from the shipped icon set ------------------------------------------------

@pytest.mark.parametrize(("prompt", "subject"), [
    ("a red sneaker on a pastel background", "running-shoe"),
    ("balloons for a birthday party", "balloon"),
    ("a cat with a balloon", "cat"),
    ("a red motorcycle in the city at night", "motorcycle"),
    ("professional headshot of a woman", "woman"),
    ("a calm forest morning", ""),  # a scene: the landscape family draws it, no icon on top
    ("happy red minimal poster", ""),  # only words that describe: no subject is invented
])
def test_the_subject_is_found_by_name_or_keyword(prompt, subject):
    from app.services.generation.local.palette import words_of
    from app.services.generation.local.subject import find_subject

    assert find_subject(words_of(prompt)) == subject


def test_a_subject_is_drawn_where_the_design_says(monkeypatch):
    import numpy as np

    from app.services.generation.local import engine as local_engine

    with_cat = local_engine.render_design(prompt="a cute cat", width=512, height=512, seed=3)
    assert with_cat.subject == "cat"
    x0, y0, x1, y1 = with_cat.subject_box
    assert 0 <= x0 < x1 <= 512 + 64 and 0 <= y0 < y1 <= 512 + 64 and (x1 - x0) >= 512 * 0.4
    monkeypatch.setattr(local_engine, "find_subject", lambda words: "")
    without = local_engine.render_design(prompt="a cute cat", width=512, height=512, seed=3)
    assert without.subject == ""
    a, b = (np.asarray(d.image, dtype=np.int16) for d in (with_cat, without))
    inside = np.abs(a - b)[max(y0, 0):y1, max(x0, 0):x1].mean()
    assert inside > 20  # the cat is there, not a faint overlay


def test_each_seed_is_another_design_of_the_same_subject():
    import numpy as np

    from app.services.generation.local.engine import render_design

    designs = [render_design(prompt="balloons for a birthday party", width=384, height=384, seed=s)
               for s in (10, 11, 12, 13)]
    assert {d.subject for d in designs} == {"balloon"}
    pixels = [np.asarray(d.image, dtype=np.int16) for d in designs]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(pixels[i] - pixels[j]).mean() > 12, (i, j)  # visibly different, not a re-tint


def test_what_the_prompt_rules_out_is_never_the_subject():
    from app.services.generation.local.palette import words_of
    from app.services.generation.local.subject import find_subject

    assert find_subject(words_of("a garden without cats, no dogs")) == ""
    assert find_subject(words_of("bright red roses, bold shapes, no red")) == ""  # "no" is not a monkey


def test_a_subject_in_a_banned_colour_takes_the_palettes_hue():
    from app.services.generation.local.engine import render_design

    red = [render_design(prompt="a strawberry", width=256, height=256, seed=s) for s in range(3)]
    assert {d.subject for d in red} == {"strawberry"} and min(hue_share(d.image, 340, 15) for d in red) > 0.02
    unred = [render_design(prompt="a strawberry", width=256, height=256, seed=s, negative_prompt="red")
             for s in range(3)]
    assert {d.subject for d in unred} == {"strawberry"}
    assert max(hue_share(d.image, 340, 15) for d in unred) < 0.01


@pytest.mark.parametrize("prompt", ['coffee shop logo "Bean There"', 'logo for a bike repair shop "Spoke"',
                                    'logo "Northwind"'])
def test_four_logos_asked_at_once_are_four_designs(prompt):
    import numpy as np

    from app.services.generation.local.engine import render_design

    logos = [render_design(prompt=prompt, width=256, height=256, seed=s) for s in range(100, 104)]
    assert {d.layout for d in logos} == {"logo"}
    assert len({d.emblem for d in logos}) == 4  # it used to draw two kinds of emblem for four logos
    if "Northwind" not in prompt:  # a coffee cup, a bicycle: the subject is one of the emblems
        assert any(d.emblem.startswith("subject") and d.subject for d in logos)
    pixels = [np.asarray(d.image, dtype=np.int16) for d in logos]
    emblem = (slice(40, 160), slice(64, 192))  # the emblem's square, above the wordmark
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(pixels[i][emblem] - pixels[j][emblem]).mean() > 6, (prompt, i, j)
