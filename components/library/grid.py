"""The library grid: tiles that keep the picture's shape, keyboard moves, selection and empty states."""

from urllib.parse import quote

import reflex as rx
from reflex_components_core.react_router.dom import ReactRouterLink

from state.library import LibraryState

# Arrow keys move focus between tiles (the column count read from the layout), Enter opens the
# focused picture, Space toggles it (shift+Space extends the range). Registered once per page load.
GRID_KEYS_JS = """
if (!window.__libraryKeys) { window.__libraryKeys = true;
 document.addEventListener('keydown', (e) => {
  const tile = document.activeElement;
  if (!tile || !tile.classList || !tile.classList.contains('asset-card')) return;
  const tiles = Array.from(document.querySelectorAll('#asset-grid .asset-card'));
  const i = tiles.indexOf(tile); if (i < 0) return;
  let cols = tiles.findIndex(t => t.offsetTop !== tiles[0].offsetTop); if (cols < 1) cols = tiles.length;
  const moves = {ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols};
  if (e.key in moves) {
   e.preventDefault();
   const next = tiles[Math.min(tiles.length - 1, Math.max(0, i + moves[e.key]))];
   next.focus(); next.scrollIntoView({block: 'nearest'});
  } else if (e.key === 'Enter') {
   e.preventDefault(); const open = tile.querySelector('a.open-asset'); if (open) open.click();
  } else if (e.key === ' ') {
   e.preventDefault(); tile.dispatchEvent(new MouseEvent('click', {bubbles: true, shiftKey: e.shiftKey}));
  }
 });
}
"""


# Tiles in view at 1280 × 800 and a little more (five columns, three rows): their thumbnails load first and
# at high priority; the rest load lazily as the grid scrolls, so they do not take the browser's six
# connections from the ones on screen.
EAGER_TILES = 15

# The tile's look as one stylesheet (in the page head, app/app.py): a tile built from Radix boxes with style
# props computed ten emotion classes per tile on every render of the grid (60 tiles, and the grid renders
# again whenever the library state changes) — most of the main thread's work before the first thumbnails.
# content-visibility: the browser lays out and paints only the tiles near the screen (a tile off it keeps its
# last size, 240px until it has had one), so the first layout does not wait for 60 tiles.
TILE_CSS = """
.asset-card { padding: 6px; border-radius: 12px; cursor: pointer; user-select: none; min-width: 0;
 content-visibility: auto; contain-intrinsic-size: auto 240px; }
.asset-card:hover { background: var(--gray-2); }
.asset-card[aria-checked="true"] { outline: 2px solid var(--violet-9); background: var(--violet-3); }
.asset-card[aria-checked="true"]:hover { background: var(--violet-4); }
.asset-card .tile-frame { position: relative; aspect-ratio: 1; padding: 8px; border-radius: 10px;
 background: var(--gray-3); }
.asset-card .tile-image { display: block; width: 100%; height: 100%; object-fit: contain; }
.asset-card .tile-state { display: flex; flex-direction: column; align-items: center; justify-content: center;
 gap: var(--space-2); width: 100%; height: 100%; font-size: var(--font-size-1); color: var(--gray-10); }
.asset-card .tile-state.failed { color: var(--red-11); }
.asset-card .tile-check { position: absolute; top: 8px; left: 8px; width: 22px; height: 22px; border-radius: 9999px;
 display: flex; align-items: center; justify-content: center; background: var(--violet-9); color: white; }
.asset-card .open-asset { position: absolute; top: 6px; right: 6px; padding: 5px; border-radius: 8px;
 display: flex; background: rgba(0, 0, 0, 0.45); color: white; }
.asset-card .tile-name, .asset-card .tile-dims { margin: 0; font-size: var(--font-size-1);
 line-height: var(--line-height-1); letter-spacing: var(--letter-spacing-1); }
.asset-card .tile-name { margin-top: 6px; font-weight: var(--font-weight-medium); overflow: hidden;
 text-overflow: ellipsis; white-space: nowrap; }
.asset-card .tile-dims { color: var(--gray-10); }
.asset-card .open-asset:hover { background: rgba(0, 0, 0, 0.7); }
.asset-card .tile-icon { display: block; width: 14px; height: 14px; background: currentColor;
 -webkit-mask: var(--icon) center / contain no-repeat; mask: var(--icon) center / contain no-repeat; }
.asset-card .tile-icon.open { --icon: ICON_OPEN; }
.asset-card .tile-icon.check { --icon: ICON_CHECK; }
.asset-card .tile-icon.off { --icon: ICON_OFF; width: 20px; height: 20px; }
.asset-card .tile-spinner { width: 16px; height: 16px; border-radius: 9999px; border: 2px solid var(--gray-6);
 border-top-color: var(--gray-10); animation: tile-spin 0.8s linear infinite; }
@keyframes tile-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .asset-card .tile-spinner { animation-duration: 2.4s; } }
"""


def svg_url(svg: str) -> str:
    """An SVG as a CSS url() (a data URL), for stylesheets that draw icons."""
    return f'url("data:image/svg+xml,{quote(svg, safe="")}")'


def _lucide(paths: str) -> str:
    """A lucide icon's paths (lucide.dev, ISC licence) as a CSS url() for a mask: drawn by the stylesheet, so a
    tile renders no icon component (60 lucide components cost more of the first render than the tiles did)."""
    return svg_url('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="black" '
                   f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{paths}</svg>')


_OPEN = '<path d="M15 3h6v6"/><path d="m21 3-7 7"/><path d="m3 21 7-7"/><path d="M9 21H3v-6"/>'
_CHECK = '<path d="M20 6 9 17l-5-5"/>'
_OFF = ('<line x1="2" x2="22" y1="2" y2="22"/><path d="M10.41 10.41a2 2 0 1 1-2.83-2.83"/>'
        '<line x1="13.5" x2="6" y1="13.5" y2="21"/><line x1="18" x2="21" y1="12" y2="15"/>'
        '<path d="M3.59 3.59A1.99 1.99 0 0 0 3 5v14a2 2 0 0 0 2 2h14c.55 0 1.052-.22 1.41-.59"/>'
        '<path d="M21 15V5a2 2 0 0 0-2-2H9"/>')
TILE_CSS = (TILE_CSS.replace("ICON_OPEN", _lucide(_OPEN)).replace("ICON_CHECK", _lucide(_CHECK))
            .replace("ICON_OFF", _lucide(_OFF)))


def tile_style() -> rx.Component:
    return rx.el.style(TILE_CSS)


def _preview(card: rx.Var, index: rx.Var) -> rx.Component:
    above_fold = index < EAGER_TILES
    return rx.cond(
        card["status"] == "ready",
        # contain, not cover: a 9:16 poster shows whole on the neutral tile instead of cropped square.
        rx.el.img(src=card["thumb"], alt=card["filename"], loading=rx.cond(above_fold, "eager", "lazy"),
                  decoding="async", draggable=False, class_name="tile-image",
                  custom_attrs={"fetchPriority": rx.cond(above_fold, "high", "auto")}),
        rx.cond(card["status"] == "failed",
                rx.el.div(rx.el.span(class_name="tile-icon off"), "No preview", class_name="tile-state failed"),
                rx.el.div(rx.el.span(class_name="tile-spinner", role="status"), "Processing",
                          class_name="tile-state")),
    )


def asset_card(card: rx.Var, index: rx.Var) -> rx.Component:
    picked = LibraryState.selected.contains(card["id"])
    return rx.el.div(
        rx.el.div(
            _preview(card, index),
            rx.cond(picked, rx.el.span(rx.el.span(class_name="tile-icon check"), class_name="tile-check")),
            # React Router's own link (client-side navigation, modifier keys open a tab), without Radix's styling
            # component around it; discover="none": 60 links must not each ask for the detail route's manifest.
            ReactRouterLink.create(rx.el.span(class_name="tile-icon open"), to=card["href"], discover="none",
                                   class_name="open-asset", tab_index=-1, aria_label="Open " + card["filename"],
                                   title="Open (Enter)", on_click=rx.stop_propagation),
            class_name="tile-frame",
        ),
        rx.el.p(card["filename"], class_name="tile-name", title=card["filename"]),
        rx.el.p(card["dims"], class_name="tile-dims"),
        on_click=lambda info: LibraryState.handle_tile_click(card["id"], info),
        on_double_click=rx.redirect(card["href"]),
        role="checkbox", aria_checked=picked, tab_index=0, aria_label=card["filename"],
        data_status=card["status"], data_orientation=card["orientation"], class_name="asset-card",
    )


def empty_state() -> rx.Component:
    return rx.cond(
        LibraryState.library_size == 0,
        rx.center(rx.vstack(rx.icon("images", size=36, color=rx.color("gray", 8)),
                            rx.heading("No pictures yet", size="4"),
                            rx.text("Drop photos or a ZIP above; they land here with their thumbnails.",
                                    color=rx.color("gray", 10)), align="center", spacing="2"),
                  padding="56px", width="100%"),
        rx.center(rx.vstack(rx.icon("search-x", size=36, color=rx.color("gray", 8)),
                            rx.heading("No pictures match", size="4"),
                            rx.text("Try fewer words or filters.", color=rx.color("gray", 10)),
                            rx.button("Clear filters", variant="soft", on_click=LibraryState.clear_filters),
                            align="center", spacing="2"),
                  padding="56px", width="100%"),
    )


def results_line() -> rx.Component:
    return rx.hstack(
        rx.text(rx.cond(LibraryState.total == 1, "1 picture", LibraryState.total_label + " pictures"),
                rx.cond(LibraryState.filtered, " match", ""),
                rx.cond(LibraryState.collection_name != "", " in “" + LibraryState.collection_name + "”", ""),
                size="2", color=rx.color("gray", 11), weight="medium"),
        rx.spacer(),
        rx.text("Click or Space selects · Shift-click a range · Enter or double-click opens", size="1",
                color=rx.color("gray", 9)),
        width="100%", align="center",
    )


def library_grid() -> rx.Component:
    return rx.vstack(
        results_line(),
        rx.cond(
            LibraryState.cards.length() > 0,
            rx.grid(rx.foreach(LibraryState.cards, asset_card),
                    columns=rx.breakpoints(initial="2", sm="3", md="4", lg="5"), spacing="2", width="100%",
                    id="asset-grid", role="group", aria_label="Pictures", on_mount=rx.call_script(GRID_KEYS_JS)),
            empty_state(),
        ),
        rx.cond(LibraryState.has_more,
                rx.center(rx.button("Show more", variant="soft", on_click=LibraryState.load_more), width="100%")),
        width="100%", spacing="3",
    )
