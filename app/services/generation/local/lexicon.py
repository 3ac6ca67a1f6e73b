"""The words the local design engine understands: colours, colour themes, moods, styles, layouts, scenes.

Plain data, kept apart from the code that uses it so it is easy to extend: add a theme with its five
colours (dark to light), a mood with how it moves the palette, or a style word and the composition
family it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

# Named colours people write in prompts, as sRGB hex; grey/white/black are neutrals.
NAMED = {
    "red": "d7263d", "crimson": "b3122e", "scarlet": "e0301e", "cherry": "c2185b", "ruby": "9b111e",
    "burgundy": "7a1f3d", "maroon": "6d1a2b", "wine": "722f37", "orange": "f57c1f", "tangerine": "f28a30",
    "amber": "f0a202", "apricot": "f7b58c", "peach": "f9b99a", "coral": "f2705e", "salmon": "f08a75",
    "yellow": "f7d417", "lemon": "f4e04d", "mustard": "d4a52a", "gold": "c9a45c", "golden": "d4a93c",
    "lime": "9ccc3d", "green": "2f9e55", "emerald": "10936b", "olive": "7a7d32", "sage": "9caf88",
    "mint": "98dbc6", "jade": "00a86b", "teal": "14847f", "turquoise": "2ec4b6", "cyan": "1ec8e0",
    "aqua": "4fd6e0", "blue": "2b62d9", "azure": "3a8ee6", "cobalt": "1f48b0", "navy": "1b2a5e",
    "sapphire": "1d3f9e", "indigo": "3d2f91", "purple": "7b3fa0", "violet": "8a4fd8", "lavender": "b6a4e3",
    "lilac": "c8a2d6", "plum": "6e2d5c", "magenta": "d22d8c", "fuchsia": "e0359b", "pink": "f48fb1",
    "rose": "e8628a", "blush": "f3c1c6", "brown": "7b4a2b", "tan": "c9a27a", "beige": "e8dcc4",
    "cream": "f4ecd8", "ivory": "f8f3e6", "khaki": "b9ae7e", "copper": "b8653a", "bronze": "a9713a",
    "rust": "b0461f", "terracotta": "c9603f", "sand": "dcc59a", "charcoal": "2e3136", "silver": "b8bec6",
    "grey": "8a8f98", "gray": "8a8f98", "white": "f7f7f5", "black": "121316",
}
NEUTRALS = {"grey", "gray", "white", "black", "charcoal", "silver"}

# Themes: words that stand for a whole set of colours, dark to light.
THEMES = {
    "sunset": "2b1d4e 7b2d6b d94c5a f5845a ffc36b", "dusk": "1f1b3d 4d3163 a0527a e8927c f6c99b",
    "sunrise": "3c3b6e c06c84 f67280 f8b195 fde2c4", "dawn": "404a7a 8d7cb0 e4a0b0 f6c6a8 fbe6cf",
    "morning": "5d7fa3 a8c8e0 f3d9b1 f7c59f fdf0d5", "golden": "3a2a4d c0576b f29e4c f7c873 fff0c9",
    "ocean": "03254c 0a4f8a 1f89b8 5cc6d0 d7f2f0", "sea": "06304f 105e86 2b90b2 7fcfd6 e3f5f3",
    "beach": "1a7f8e 3fc1c9 f6e3b4 f7b77a ff7b63", "tropical": "0b6e4f 1fb5b5 f9d56e f59e6c ff6f61",
    "forest": "132a1f 1f4d33 3f7d4e 8fb573 e3d9b8", "jungle": "0d2818 04471c 058c42 16db65 c7f9cc",
    "autumn": "3b1f14 8c2f1b c8581f e39b36 f2d38a", "fall": "3b1f14 8c2f1b c8581f e39b36 f2d38a",
    "spring": "7cc49a b8e0a8 f2a7c0 f6d6e1 fff3c4", "summer": "1a8fe3 4ecdc4 ff6b4a ffb347 ffe66d",
    "winter": "0f2a44 3f6e9b 9cc3e4 dfeef8 fbfdff", "snow": "31455e 7d98b3 b9cde0 e3edf6 fbfdff",
    "ice": "0e3b5c 2f7fa8 7ccbe8 c6ecf7 f4fcff", "neon": "0b0221 b967ff ff2e97 00f0ff fffb96",
    "synthwave": "120458 7a04eb ff2a6d ff8b3d 05d9e8", "vaporwave": "2d1e5c ff71ce 01cdfe 05ffa1 fffb96",
    "cyberpunk": "0d0221 711c91 ff003c 00f0ff fcee0a", "pastel": "b5c7e8 cfe5d6 ffd1dc fff1c1 f3e8fb",
    "coffee": "2a1a12 5b3a29 a0704d d8b48c f3e6d3", "espresso": "1e120c 3d2418 6f4a33 b88b63 efe1cf",
    "chocolate": "2d1710 4e2a1e 7b4a32 c89a6a f1dfc7", "midnight": "070b1f 141c46 2c3a7a 6e6fc2 e9e5ff",
    "night": "0a0f24 1a2347 34407a 8089c4 f2e9c9", "desert": "5a2e1b b5603a e09f5f f2cf94 f8ead0",
    "fire": "1e0505 7a0e0e d62f0e f77f00 fcbf49", "fiery": "2a0606 8f1010 e0340f f78c1f fcc25a",
    "lava": "120303 5c0a0a c3200c f2600c ffb038", "candy": "a2d2ff bde0fe ff8fb1 ffc8dd fff3b0",
    "galaxy": "05030f 1b0f3b 4b1d7a c2379b 49c6e5", "space": "03040c 10143a 2e2a6e 7a4fbf d6c8ff",
    "cosmic": "07041a 24104f 6a1b9a e040a0 7ee8fa", "aurora": "04101f 0b3d4f 18b08a 7cf0b0 9b5de5",
    "earthy": "3d2b1f 8a4b2f c57b57 8f9a6b d9b48f", "vineyard": "2b0a14 5c0f27 8e1b3d c96480 f2d0c9",
    "floral": "244d3a 5c9c6d f2a5b5 f7d6a0 fbeff2", "garden": "1f4030 4f8a5b a9cf8a f4b6c2 fbf3e4",
    "berry": "3d0c2c 8e1652 c2185b f06292 ffd6e5", "citrus": "a7d36f ff9f1c ffbf69 ffe66d fff8e1",
    "mountain": "1c2a3a 3f5a73 7f9cb3 c9d8e4 f5efe6", "sky": "2b6cb0 63a4e0 a9d3f5 e8f4fd fff7e6",
    "storm": "12161c 2c3440 4f5d6e 8797a8 c9d3dd", "rain": "1c2530 3b4a5a 6b7f92 a9b8c6 dde5ec",
    "christmas": "0f3d2e 1e6b46 c0262c d4af37 f2e8cf", "halloween": "0d0a0b 2a1a3a f26b1d ffad3b 7bd389",
    "jazz": "0b1026 1b2a5c 2f4fa8 e0a43b f5e6c8", "matcha": "2f3e1f 6a8d3a a9c47f e4eccb f7f3e3",
    "retro": "264653 2a9d8f e9c46a f4a261 e76f51", "70s": "3d1f0d b5451b e07a1f f2b33d f4e3c1",
    "lagoon": "053d57 0f7c8c 2fb9b2 9ee6d3 effaf5", "rainbow": "e63946 f4a261 e9c46a 2a9d8f 457b9d",
    "nordic": "2e3440 4c566a 88c0d0 d8dee9 eceff4", "wedding": "8c6d46 c9a45c e8d5b5 f3e9dc fbf7f0",
}
THEME_ALIASES = {"sundown": "sunset", "twilight": "dusk", "marine": "ocean", "nautical": "ocean", "seaside": "beach",
                 "woods": "forest", "woodland": "forest", "cafe": "coffee", "café": "coffee", "roastery": "coffee",
                 "latte": "coffee", "nebula": "galaxy", "universe": "galaxy", "stars": "night", "starry": "night",
                 "moon": "night", "flame": "fire", "flames": "fire", "inferno": "fire", "sweet": "candy",
                 "frost": "ice", "frozen": "ice", "icy": "ice", "dune": "desert", "dunes": "desert", "earth": "earthy",
                 "botanical": "floral", "flower": "floral", "flowers": "floral", "bloom": "floral", "tea": "matcha",
                 "alpine": "mountain", "mountains": "mountain", "stormy": "storm", "rainy": "rain", "xmas": "christmas",
                 "blues": "jazz", "seventies": "70s", "retrowave": "synthwave", "scandinavian": "nordic"}


@dataclass(frozen=True)
class Mood:
    """How mood words move a palette; `light` > 0 asks for a light background, < 0 for a dark one."""

    light: float = 0.0
    chroma: float = 1.0  # multiplier on colourfulness
    warmth: float = 0.0  # -1 cool … +1 warm, used when the prompt names no colour
    harmony: str = ""  # preferred harmony, "" = chosen by seed
    font: str = ""  # serif / display / rounded / mono / sans
    grain: float = 1.0
    families: tuple[str, ...] = ()


_MOODS: dict[tuple[str, ...], Mood] = {
    ("calm", "serene", "peaceful", "tranquil", "relaxing", "zen", "soft", "gentle", "quiet", "dreamy"):
        Mood(light=0.5, chroma=0.75, harmony="analogous", families=("mesh", "waves", "minimal", "landscape")),
    ("energetic", "vibrant", "dynamic", "loud", "exciting", "party", "sport", "sports", "festival", "electric"):
        Mood(chroma=1.3, warmth=0.6, harmony="complementary", font="display", families=("bauhaus", "radial", "waves")),
    ("bold", "striking", "powerful"): Mood(chroma=1.2, warmth=0.3, font="display", families=("bauhaus", "radial")),
    ("dark", "moody", "noir", "gothic", "mysterious", "spooky", "dramatic", "shadowy"):
        Mood(light=-1.0, chroma=0.9, families=("mesh", "radial", "landscape")),
    ("playful", "fun", "whimsical", "cute", "kids", "children", "happy", "cheerful", "joyful", "toy", "silly"):
        Mood(light=0.4, chroma=1.15, harmony="triadic", font="rounded", families=("iso", "tiles", "bauhaus")),
    ("elegant", "luxury", "luxurious", "classy", "sophisticated", "refined", "premium", "classic", "graceful",
     "invitation", "boutique"): Mood(light=0.4, chroma=0.6, harmony="mono", font="serif", families=("minimal",)),
    ("romantic", "love", "valentine", "tender"): Mood(light=0.5, chroma=0.8, warmth=0.8, font="serif"),
    ("retro", "vintage", "nostalgic", "groovy", "antique", "old"):
        Mood(chroma=0.8, warmth=0.6, font="display", grain=1.8, families=("retro",)),
    ("minimal", "minimalist", "minimalistic", "clean", "simple", "understated"):
        Mood(light=0.3, chroma=0.75, font="sans", families=("minimal",)),
    ("tech", "technology", "futuristic", "cyber", "digital", "code", "coding", "data", "software", "ai", "hacker",
     "terminal", "sci-fi", "scifi"): Mood(light=-0.6, warmth=-0.6, font="mono", families=("tiles", "neon", "mesh")),
    ("natural", "organic", "nature", "rustic"): Mood(chroma=0.75, warmth=0.2, families=("watercolor", "waves")),
    ("warm", "cozy", "cosy", "sunny"): Mood(warmth=1.0),
    ("cool", "cold", "chilly", "wintry"): Mood(warmth=-1.0),
    ("bright", "airy", "fresh", "light"): Mood(light=0.8, chroma=1.05),
    ("muted", "dusty", "faded", "desaturated", "subtle", "washed"): Mood(chroma=0.5),
    ("deep", "rich"): Mood(light=-0.3, chroma=1.1),
}
MOODS = {word: mood for words, mood in _MOODS.items() for word in words}
NEGATORS = ("no", "without", "not", "avoid", "never", "less")  # "no red" takes red out

# Style words → composition family (photo and flat are rendering flags, not families).
STYLE_WORDS = {
    "watercolor": "watercolor watercolour aquarelle gouache painting painted washes wash ink",
    "photo": "photo photograph photography photorealistic realistic cinematic bokeh dslr film 35mm hdr",
    "flat": "illustration flat vector cartoon graphic drawing",
    "iso": "3d render rendered isometric clay claymation octane blender c4d cgi low-poly lowpoly",
    "neon": "neon synthwave cyberpunk glow glowing vaporwave retrowave outrun",
    "retro": "retro vintage 70s groovy sunburst nostalgic",
    "tiles": "pattern patterns tile tiles tiled mosaic grid seamless wallpaper truchet textile",
    "bauhaus": "bauhaus geometric shapes modernist constructivist swiss mid-century memphis",
    "waves": "wave waves flow flowing fluid stripes layers layered papercut paper-cut",
    "mesh": "abstract gradient mesh blur blurry aura blobs holographic iridescent",
    "radial": "radial concentric circles mandala spiral target rings hypnotic",
    "minimal": "minimal minimalist minimalism zen simple",
}
LAYOUT_WORDS = {"poster": "poster flyer gig concert event festival billboard cover",
                 "logo": "logo emblem badge icon brand branding monogram wordmark logotype",
                 "card": "invitation invite card wedding certificate menu greeting rsvp"}
SCENE_WORDS = {
    "city": "city skyline urban buildings downtown metropolis town skyscrapers street",
    "trees": "forest trees tree woods woodland pine pines jungle",
    "mountains": "mountain mountains alpine peaks peak hills valley volcano",
    "water": "ocean sea beach lake river water coast harbor harbour bay lagoon pond",
    "sun": "sun sunset sunrise dawn dusk golden morning sunny",
    "night": "night midnight moon stars starry moonlit nocturnal",
    "land": "landscape scenery field meadow desert countryside horizon prairie farm dunes nature",
}
