"""Colour for the local design engine: OKLab/OKLCH, a lexicon of colour and mood words, and palettes.

The prompt's words pick anchor colours (named colours such as "teal", themes such as "sunset" with a
curated set of colours) and a mood ("calm", "dark", "retro"…) that moves lightness and chroma. The
palette is then filled out with a harmony (analogous, complementary, triadic…) in OKLCH, where equal
steps look equal to people, so generated colours sit well together. Words in the negative prompt (or
"no red" / "without pink" in the prompt) take colours and moods out again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from app.services.generation.local.lexicon import (
    MOODS,
    NAMED,
    NEGATORS,
    NEUTRALS,
    THEME_ALIASES,
    THEMES,
    Mood,
)

RGB = tuple[float, float, float]  # sRGB, 0..1
LCH = tuple[float, float, float]  # OKLCH: lightness 0..1, chroma ~0..0.37, hue in degrees

_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929], [0.2119034982, 0.6806995451, 0.1073969566],
                [0.0883024619, 0.2817188376, 0.6299787005]])
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468], [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]])
_M2_INV = np.array([[1.0, 0.3963377774, 0.2158037573], [1.0, -0.1055613458, -0.0638541728],
                    [1.0, -0.0894841775, -1.2914855480]])
_M1_INV = np.array([[4.0767416621, -3.3077115913, 0.2309699292], [-1.2684380046, 2.6097574011, -0.3413193965],
                    [-0.0041960863, -0.7034186147, 1.7076147010]])


def srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..1, last axis) to OKLab (Björn Ottosson's matrices)."""
    c = np.asarray(rgb, dtype=np.float64)
    lin = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    return np.cbrt(lin @ _M1.T) @ _M2.T


def oklab_to_linear(lab: np.ndarray) -> np.ndarray:
    """OKLab to linear-light sRGB, not clipped (values outside 0..1 are out of gamut)."""
    return ((np.asarray(lab) @ _M2_INV.T) ** 3) @ _M1_INV.T


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear light to gamma-encoded sRGB (clipped to 0..1)."""
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin > 0.0031308, 1.055 * np.power(lin, 1 / 2.4) - 0.055, 12.92 * lin)


def oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """OKLab to sRGB 0..1, clipped per channel (use for images; `lch_to_rgb` maps single colours properly)."""
    return linear_to_srgb(oklab_to_linear(lab))


def lch_to_rgb(lch: LCH) -> RGB:
    """One OKLCH colour to sRGB, reducing chroma until it fits the gamut (keeps lightness and hue)."""
    lightness, chroma, hue = min(max(lch[0], 0.0), 1.0), max(lch[1], 0.0), math.radians(lch[2])
    lo, hi = 0.0, chroma
    lin = oklab_to_linear(np.array([lightness, chroma * math.cos(hue), chroma * math.sin(hue)]))
    if np.all(lin >= -1e-4) and np.all(lin <= 1 + 1e-4):  # most colours are in gamut already
        lo = hi = chroma
    for _ in range(14 if hi > lo else 0):  # bisection on chroma: 2^-14 of 0.37 is below one 8-bit step
        mid = (lo + hi) / 2 if hi > lo else hi
        lin = oklab_to_linear(np.array([lightness, mid * math.cos(hue), mid * math.sin(hue)]))
        if np.all(lin >= -1e-4) and np.all(lin <= 1 + 1e-4):
            lo = mid
            if mid == hi:
                break
        else:
            hi = mid
    lin = oklab_to_linear(np.array([lightness, lo * math.cos(hue), lo * math.sin(hue)]))
    r, g, b = (float(v) for v in linear_to_srgb(lin))
    return (r, g, b)


def rgb_to_lch(rgb: RGB) -> LCH:
    """sRGB 0..1 to OKLCH (lightness, chroma, hue in degrees)."""
    lab = srgb_to_oklab(np.array(rgb))
    return (float(lab[0]), float(math.hypot(lab[1], lab[2])), math.degrees(math.atan2(lab[2], lab[1])) % 360)


def hex_rgb(value: str) -> RGB:
    """"c9a45c" or "#c9a45c" to sRGB 0..1."""
    value = value.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


def luminance(rgb: RGB | np.ndarray) -> float | np.ndarray:
    """WCAG relative luminance of sRGB 0..1 (works on arrays, last axis RGB)."""
    c = np.asarray(rgb, dtype=np.float64)
    lin = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    return float(lum) if lum.ndim == 0 else lum


def contrast_ratio(lum_a: float, lum_b: float) -> float:
    """WCAG contrast ratio of two relative luminances (1..21)."""
    hi, lo = max(lum_a, lum_b), min(lum_a, lum_b)
    return (hi + 0.05) / (lo + 0.05)


def hue_distance(a: float, b: float) -> float:
    """Angle between two hues in degrees, 0..180."""
    return abs((a - b + 180) % 360 - 180)


_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


def _lch_of(hex_value: str) -> LCH:
    return rgb_to_lch(hex_rgb(hex_value))


_NAMED_LCH = {name: _lch_of(value) for name, value in NAMED.items()}
_THEME_LCH = {name: [_lch_of(v) for v in values.split()] for name, values in THEMES.items()}


def words_of(text: str) -> list[str]:
    """Lower-case words of a prompt; "light-blue" stays one word and also yields "light" and "blue"."""
    out: list[str] = []
    for word in _WORD.findall(text.lower().replace("’", "'")):
        word = word.strip("'-")
        out.append(word)
        if "-" in word:
            out.extend(part for part in word.split("-") if part)
    return out


@dataclass
class ColourWords:
    """What the words of a prompt say about colour: anchors, mood, and what is excluded."""

    anchors: list[LCH] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    mood: Mood = field(default_factory=Mood)
    mood_words: list[str] = field(default_factory=list)
    banned_hues: list[float] = field(default_factory=list)
    banned_neutrals: set[str] = field(default_factory=set)


def _banned_words(prompt_words: list[str], negative_words: list[str]) -> set[str]:
    banned = set(negative_words)
    for i, word in enumerate(prompt_words[:-1]):
        if word in NEGATORS:
            banned.add(prompt_words[i + 1])
    return banned


def read_colour_words(prompt_words: list[str], negative_words: list[str]) -> ColourWords:
    """Anchors, themes and mood from the prompt's words, minus whatever is negated or in the negative prompt."""
    banned = _banned_words(prompt_words, negative_words)
    out = ColourWords()
    negated_next = False
    for word in prompt_words:
        if negated_next or word in banned:
            negated_next = word in NEGATORS
            continue
        negated_next = word in NEGATORS
        theme = THEME_ALIASES.get(word, word)
        if theme in _THEME_LCH and theme not in out.themes:
            # The first theme gives all its colours; later ones add their two most colourful.
            extra = _THEME_LCH[theme] if not out.themes else sorted(_THEME_LCH[theme], key=lambda a: -a[1])[:2]
            out.themes.append(theme)
            out.anchors.extend(extra)
        elif word in _NAMED_LCH and word != "golden":
            out.anchors.insert(len(out.anchors) if out.themes else 0, _NAMED_LCH[word])
        if word in MOODS and word not in out.mood_words:
            out.mood_words.append(word)
    for word in banned:
        if word in NEUTRALS:
            out.banned_neutrals.add("grey" if word in ("gray", "silver", "charcoal") else word)
        elif word in _NAMED_LCH:
            out.banned_hues.append(_NAMED_LCH[word][2])
    out.anchors = [a for a in out.anchors if not _is_banned(a, out.banned_hues, out.banned_neutrals)]
    out.mood = _merge_moods([MOODS[w] for w in out.mood_words])
    return out


def _merge_moods(moods: list[Mood]) -> Mood:
    if not moods:
        return Mood()
    light = sum(m.light for m in moods) / len(moods)
    chroma = min(max(math.prod(m.chroma for m in moods), 0.35), 1.5)
    warmth = min(max(sum(m.warmth for m in moods), -1.0), 1.0)
    first = next((m.harmony for m in moods if m.harmony), "")
    font = next((m.font for m in moods if m.font), "")
    families = tuple(f for m in moods for f in m.families)
    return Mood(light=light, chroma=chroma, warmth=warmth, harmony=first, font=font,
                grain=max(m.grain for m in moods), families=families)


BAN_HALF_WIDTH = 32.0  # degrees of OKLCH hue on each side of a banned colour's hue


def _is_banned(lch: LCH, hues: list[float], neutrals: set[str]) -> bool:
    if lch[1] > 0.045 and any(hue_distance(lch[2], h) < BAN_HALF_WIDTH for h in hues):
        return True
    return ("black" in neutrals and lch[0] < 0.25) or ("white" in neutrals and lch[0] > 0.93 and lch[1] < 0.04)


@dataclass(frozen=True)
class Palette:
    """The colours one design uses, all sRGB 0..1."""

    background: tuple[RGB, RGB]  # main background colour and a second one for gradients
    shapes: tuple[RGB, ...]  # accents that stand out from the background, most important first
    ramp: tuple[RGB, ...]  # every colour of the palette, dark to light, for gradients and layered scenes
    light: RGB  # a near-white tinted with the palette's hue (paper, highlights, light type)
    dark: RGB  # a near-black tinted the same way (ink, shadows, dark type)
    is_dark: bool  # the background is dark
    hue: float  # the base hue (OKLCH degrees)
    vivid: RGB = (0.9, 0.4, 0.2)  # the most colourful mid-tone accent: for a focal shape


_HARMONIES = {"analogous": (0, 28, -28, 56), "complementary": (0, 180, 22, 200), "split": (0, 150, 210, 30),
              "triadic": (0, 120, 240, 60), "tetradic": (0, 90, 180, 270), "mono": (0, 0, 10, -10)}
_HARMONY_WEIGHTS = {"analogous": 3, "complementary": 2, "split": 2, "triadic": 2, "tetradic": 1, "mono": 1}


def _unban(lch: LCH, words: ColourWords) -> LCH:
    """Move a colour out of the banned hues (turn its hue past the nearest edge) and away from banned neutrals."""
    lightness, chroma, hue = lch
    for _ in range(4):  # bans can sit side by side; a few turns clear them all
        hit = next((h for h in words.banned_hues if chroma > 0.045 and hue_distance(hue, h) < BAN_HALF_WIDTH), None)
        if hit is None:
            break
        step = (hue - hit + 180) % 360 - 180
        hue = (hit + math.copysign(BAN_HALF_WIDTH + 14, step or 1.0)) % 360
    if "black" in words.banned_neutrals:
        lightness = max(lightness, 0.3)
    if "white" in words.banned_neutrals and lightness > 0.9:
        lightness, chroma = 0.86, max(chroma, 0.05)
    if "grey" in words.banned_neutrals and 0.25 < lightness < 0.9:
        chroma = max(chroma, 0.06)
    return (lightness, chroma, hue)


def _pick_dark(words: ColourWords, rng: np.random.Generator) -> bool:
    light = words.mood.light
    if light <= -0.3 or light >= 0.3:
        return light < 0
    if words.themes:
        return float(np.mean([a[0] for a in words.anchors])) < 0.5
    return bool(rng.random() < 0.35)


def _base_hue(words: ColourWords, rng: np.random.Generator) -> float:
    coloured = [a for a in words.anchors if a[1] > 0.03]
    if coloured:
        return coloured[0][2]
    warmth = words.mood.warmth
    if warmth > 0.3:
        return float(rng.uniform(15, 95))
    if warmth < -0.3:
        return float(rng.uniform(185, 290))
    # Acid yellow-greens (OKLCH ~100-150°) rarely make a good lead colour; leave them to the prompt.
    hue = float(rng.uniform(0, 310))
    return hue + 50 if hue >= 100 else hue


def build_palette(words: ColourWords, rng: np.random.Generator) -> Palette:
    """A palette for these colour words; the seed's generator picks the harmony and small variations."""
    mood = words.mood
    is_dark = _pick_dark(words, rng)
    hue = _base_hue(words, rng)
    names = list(_HARMONY_WEIGHTS)
    weights = np.array([_HARMONY_WEIGHTS[n] for n in names], dtype=float)
    harmony = mood.harmony or names[int(rng.choice(len(names), p=weights / weights.sum()))]
    chroma_k = mood.chroma

    def jitter(lch: LCH, dl: float = 0.03, dh: float = 6.0) -> LCH:
        return (min(max(lch[0] + rng.uniform(-dl, dl), 0.05), 0.98), lch[1], (lch[2] + rng.uniform(-dh, dh)) % 360)

    anchors = [jitter(a) for a in words.anchors]
    if len(anchors) >= 3:  # a theme: its own colours are the palette
        ordered = sorted(anchors, key=lambda a: a[0])
        bg_main = ordered[0] if is_dark else ordered[-1]
        bg_second = ordered[1] if is_dark else ordered[-2]
        accents = [a for a in anchors if a not in (bg_main,)]
        accents.sort(key=lambda a: -abs(a[0] - bg_main[0]) - 2 * a[1])
    else:
        accents = list(anchors)
        for offset in _HARMONIES[harmony]:
            if len(accents) >= 4:
                break
            lightness = rng.uniform(0.62, 0.86) if is_dark else rng.uniform(0.5, 0.76)
            if harmony == "mono":
                lightness = 0.45 + 0.12 * len(accents) + rng.uniform(-0.04, 0.04)
            accents.append((lightness, 0.13 * rng.uniform(0.85, 1.15), (hue + offset + rng.uniform(-8, 8)) % 360))
        if is_dark:
            bg_main = (rng.uniform(0.17, 0.25), min(0.055, 0.45 * accents[0][1]), hue)
            bg_second = (bg_main[0] + 0.07, bg_main[1] * 1.3, (hue + 25) % 360)
        elif rng.random() < 0.3:  # a soft coloured ground instead of off-white
            bg_main = (rng.uniform(0.86, 0.91), 0.045, (hue + 180 if harmony == "complementary" else hue) % 360)
            bg_second = (bg_main[0] + 0.05, 0.03, (bg_main[2] + 20) % 360)
        else:
            bg_main = (rng.uniform(0.94, 0.975), rng.uniform(0.012, 0.028), (hue + 40) % 360)
            bg_second = (bg_main[0] - 0.06, bg_main[1] + 0.02, (hue + 10) % 360)
    def scale(c: LCH, k: float = chroma_k) -> LCH:
        return (c[0] + 0.04 * mood.light, c[1] * k, c[2])

    named = set(anchors)  # colours the prompt named keep more of their chroma under a muting mood
    accents = [_unban(scale(a, chroma_k ** 0.5 if a in named else chroma_k), words) for a in accents]
    # Generated colours stop short of full chroma: loud greens and purples side by side look garish.
    accents = [a if a in named else (a[0], min(a[1], 0.16), a[2]) for a in accents]
    bg_main, bg_second = _unban(scale(bg_main), words), _unban(scale(bg_second), words)
    # Accents too close in lightness to the background vanish; push them away from it.
    accents = [a if abs(a[0] - bg_main[0]) > 0.1 or a[1] > 0.1
               else ((bg_main[0] - 0.14) if not is_dark else (bg_main[0] + 0.3), a[1], a[2]) for a in accents]
    light = _unban((0.97, 0.012, hue), words)
    dark = _unban((0.2, 0.03, hue), words)
    ramp = sorted([bg_main, bg_second, *accents], key=lambda a: a[0])
    vivid = max(accents, key=lambda a: a[1] - 0.3 * max(0.0, abs(a[0] - 0.68) - 0.17))
    rgb = lch_to_rgb
    return Palette(background=(rgb(bg_main), rgb(bg_second)), shapes=tuple(rgb(a) for a in accents),
                   ramp=tuple(rgb(a) for a in ramp), light=rgb(light), dark=rgb(dark), is_dark=is_dark, hue=hue,
                   vivid=rgb(vivid))
