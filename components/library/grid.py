"""The library grid: tiles that keep the picture's shape, keyboard moves, selection and empty states."""

import reflex as rx

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


def _preview(card: rx.Var) -> rx.Component:
    return rx.cond(
        card["status"] == "ready",
        # contain, not cover: a 9:16 poster shows whole on the neutral tile instead of cropped square.
        rx.image(src=card["thumb"], alt=card["filename"], width="100%", height="100%", object_fit="contain",
                 loading="lazy", draggable=False, class_name="tile-image"),
        rx.center(
            rx.cond(card["status"] == "failed",
                    rx.vstack(rx.icon("image-off", color=rx.color("red", 10)),
                              rx.text("No preview", size="1", color=rx.color("red", 11)), align="center"),
                    rx.vstack(rx.spinner(), rx.text("Processing", size="1", color=rx.color("gray", 10)),
                              align="center")),
            width="100%", height="100%"),
    )


def asset_card(card: rx.Var) -> rx.Component:
    picked = LibraryState.selected.contains(card["id"])
    return rx.box(
        rx.box(
            _preview(card),
            rx.cond(picked, rx.center(rx.icon("check", size=14, color="white"), position="absolute", top="8px",
                                      left="8px", width="22px", height="22px", border_radius="full",
                                      background=rx.color("violet", 9))),
            rx.link(rx.icon("maximize-2", size=14), href=card["href"], class_name="open-asset", tab_index=-1,
                    aria_label="Open " + card["filename"], title="Open (Enter)", on_click=rx.stop_propagation,
                    position="absolute", top="6px", right="6px", padding="5px", border_radius="8px",
                    background="rgba(0,0,0,0.45)", color="white", display="flex"),
            position="relative", aspect_ratio="1", padding="8px", border_radius="10px",
            background=rx.color("gray", 3),
        ),
        rx.text(card["filename"], size="1", weight="medium", overflow="hidden", text_overflow="ellipsis",
                white_space="nowrap", margin_top="6px", title=card["filename"]),
        rx.text(card["dims"], size="1", color=rx.color("gray", 10)),
        padding="6px", border_radius="12px", cursor="pointer", user_select="none",
        outline=rx.cond(picked, f"2px solid {rx.color('violet', 9)}", "none"),
        background=rx.cond(picked, rx.color("violet", 3), "transparent"),
        _hover={"background": rx.cond(picked, rx.color("violet", 4), rx.color("gray", 2))},
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
