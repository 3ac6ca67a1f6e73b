"""The library's search bar: words, filters as selects, tag chips and the sort; each change updates the URL.

The filters and the sort are the browser's own <select>, styled by FILTER_CSS (in the page head with the grid's
stylesheet). Radix's Select renders every option of a closed menu into a hidden fragment (for its typeahead and
its hidden native select), so seven of them — one listing every tag in the library — were the largest part of
mounting the Assets page (bench/library_page.py: ~75 ms of a ~250 ms first render on 2 cores). A native select
costs one element per option, opens the platform's own list, and is keyboard- and screen-reader-ready as is.
"""

import reflex as rx

from components.library.grid import svg_url
from state.library import ANY, ORIENTATIONS, ORIGINS, SORTS, LibraryState

_CHEVRON = svg_url('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 15 15"><path d="M4.93 5.43a.45.45 0 0 1 '
                   '.64 0L7.5 7.36l1.93-1.93a.45.45 0 1 1 .64.64L7.82 8.32a.45.45 0 0 1-.64 0L4.93 6.07a.45.45 0 0 1 '
                   '0-.64Z" fill="gray"/></svg>')
# Sized and coloured as Radix Themes' select trigger (size 2; size 3 for the sort), from its own CSS variables, so
# light and dark themes follow. "soft" marks a filter that narrows the search, as the Radix variant did.
FILTER_CSS = f"""
.filter-select {{ appearance: none; -webkit-appearance: none; height: var(--space-6); max-width: 220px;
 padding: 0 28px 0 var(--space-3); border-radius: var(--radius-2); font: inherit; font-size: var(--font-size-2);
 letter-spacing: var(--letter-spacing-2); color: var(--gray-12); cursor: pointer; text-overflow: ellipsis;
 background: var(--color-surface) {_CHEVRON} no-repeat right 8px center / 15px;
 box-shadow: inset 0 0 0 1px var(--gray-a7); border: 0; }}
.filter-select:hover {{ box-shadow: inset 0 0 0 1px var(--gray-a8); }}
.filter-select:focus-visible {{ outline: 2px solid var(--focus-8); outline-offset: -1px; }}
.filter-select.large {{ height: var(--space-7); font-size: var(--font-size-3); padding-left: var(--space-4); }}
.filter-select[data-active="true"] {{ background-color: var(--accent-a3); color: var(--accent-a11);
 box-shadow: none; }}
.filter-select[data-active="true"]:hover {{ background-color: var(--accent-a4); }}
"""


def filter_style() -> rx.Component:
    return rx.el.style(FILTER_CSS)


def _native(label: str, options: list[rx.Component], value: rx.Var | str, on_change, active: rx.Var | bool = False,
            large: bool = False) -> rx.Component:
    return rx.el.select(*options, value=value, on_change=on_change, aria_label=label, title=label,
                        class_name="filter-select large" if large else "filter-select", data_active=active)


def _select(name: str, value: rx.Var, any_label: str, fixed: dict[str, str] | None = None,
            options: rx.Var | None = None) -> rx.Component:
    items = [rx.el.option(any_label, value=ANY)]
    items += [rx.el.option(label, value=key) for key, label in (fixed or {}).items()]
    if options is not None:
        items.append(rx.foreach(options, lambda o: rx.el.option(o, value=o)))
    return _native(any_label, items, value, lambda v: LibraryState.handle_filter(name, v), active=value != ANY)


def _date(name: str, value: rx.Var, label: str) -> rx.Component:
    return rx.input(type="date", value=value, on_change=lambda v: LibraryState.handle_filter(name, v).debounce(400),
                    aria_label=label, title=label, size="2", width="150px")


def tag_chip(tag: rx.Var) -> rx.Component:
    return rx.badge(
        rx.icon("tag", size=12), tag,
        rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", color_scheme="violet",
                       on_click=LibraryState.remove_tag_filter(tag), aria_label="Remove tag filter " + tag),
        size="2", variant="soft", color_scheme="violet", radius="full", class_name="tag-chip",
    )


def search_bar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.input(rx.input.slot(rx.icon("search", size=16)),
                     placeholder="Search names, tags, alt text, text in pictures…",
                     value=LibraryState.q, on_change=LibraryState.handle_search.debounce(300), size="3",
                     flex="1", min_width="240px", aria_label="Search the library", type="search",
                     id="library-search"),
            rx.hstack(
                rx.icon("arrow-down-up", size=16, color=rx.color("gray", 10)),
                _native("Sort by", [rx.el.option(label, value=key) for key, label in SORTS.items()], LibraryState.sort,
                        lambda v: LibraryState.handle_filter("sort", v), large=True),
                rx.icon_button(rx.cond(LibraryState.order == "desc", rx.icon("arrow-down-wide-narrow"),
                                       rx.icon("arrow-up-narrow-wide")),
                               on_click=LibraryState.handle_filter(
                                   "order", rx.cond(LibraryState.order == "desc", "asc", "desc")),
                               variant="soft", color_scheme="gray", size="3",
                               aria_label=rx.cond(LibraryState.order == "desc", "Newest or largest first",
                                                  "Oldest or smallest first")),
                spacing="2", align="center",
            ),
            width="100%", spacing="3", wrap="wrap", align="center",
        ),
        rx.hstack(
            rx.icon("sliders-horizontal", size=16, color=rx.color("gray", 10)),
            _select("origin", LibraryState.origin, "Any origin", ORIGINS),
            _select("orientation", LibraryState.orientation, "Any shape", ORIENTATIONS),
            _select("colour", LibraryState.colour, "Any color", options=LibraryState.colours),
            _select("camera", LibraryState.camera, "Any camera", options=LibraryState.cameras),
            rx.hstack(rx.text("Taken", size="2", color=rx.color("gray", 10)),
                      _date("taken_from", LibraryState.taken_from, "Taken from"),
                      rx.text("–", color=rx.color("gray", 9)),
                      _date("taken_to", LibraryState.taken_to, "Taken until"), spacing="2", align="center",
                      wrap="wrap"),  # on a phone the second date goes under the first instead of past the edge
            # Always showing its first line: picking a tag adds a chip, and the select is ready for the next one.
            _native("Filter by tag", [rx.el.option("Filter by tag", value="", disabled=True),
                                      rx.foreach(LibraryState.known_tags, lambda t: rx.el.option(t, value=t))],
                    "", LibraryState.add_tag_filter),
            rx.foreach(LibraryState.tags, tag_chip),
            rx.cond(LibraryState.filtered,
                    rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", color_scheme="gray",
                              size="2", on_click=LibraryState.clear_filters)),
            width="100%", spacing="2", wrap="wrap", align="center",
        ),
        width="100%", spacing="3",
    )
