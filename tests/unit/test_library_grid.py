"""The Assets page as it compiles: what the browser has to load and compute before the first thumbnails."""

import re

from components.library.grid import EAGER_TILES, TILE_CSS, library_grid
from components.pages.assets import assets_page


def _tile(rendered: str) -> str:
    """The JSX of one grid tile: from the foreach over the cards to the end of its callback."""
    start = rendered.index("Array.prototype.map.call(reflex___state____state__state___library____library_state"
                           ".cards_rx_state_")
    return rendered[start:rendered.index("))))", rendered.index("tile-dims", start))]


def test_the_page_loads_no_icon_by_name():
    # An icon named by a Var compiles to lucide's DynamicIcon, a 257 KB chunk of every icon's name.
    assert "DynamicIcon" not in str(assets_page())


def test_a_tile_is_plain_elements_styled_by_the_stylesheet():
    tile = _tile(str(library_grid()))
    # No emotion style and no component library's element in a tile: each is computed per tile per render.
    assert "css:" not in tile
    assert "RadixThemes" not in tile
    # Icons and the spinner are drawn by the stylesheet: a lucide component per tile cost more than the tile.
    assert "Lucide" not in tile and "Spinner" not in tile
    assert 'discover:"none"' in tile  # 60 links asking for the detail route's manifest each
    for name in ("asset-card", "tile-frame", "tile-image", "tile-check", "open-asset", "tile-name", "tile-dims",
                 "tile-icon.open", "tile-icon.check", "tile-icon.off", "tile-spinner"):
        assert f".{name}" in TILE_CSS


def test_only_the_first_tiles_load_eagerly_and_first():
    tile = _tile(str(library_grid()))
    image = re.search(r'jsx\("img",\{(.*?)\}', tile).group(1)
    index = re.search(r"\(\(card_rx_state_,(\w+)\)=>", tile).group(1)
    assert f'loading:(({index} < {EAGER_TILES}) ? "eager" : "lazy")' in image
    assert f'fetchPriority:(({index} < {EAGER_TILES}) ? "high" : "auto")' in image
    assert 'decoding:"async"' in image
    assert 12 <= EAGER_TILES <= 20  # the two or three rows on screen at 1280 × 800, and not the whole page
