"""The library's search bar: words, filters as selects, tag chips and the sort; each change updates the URL."""

import reflex as rx

from state.library import ANY, ORIENTATIONS, ORIGINS, SORTS, LibraryState


def _select(name: str, value: rx.Var, any_label: str, fixed: dict[str, str] | None = None,
            options: rx.Var | None = None) -> rx.Component:
    items = [rx.select.item(any_label, value=ANY)]
    items += [rx.select.item(label, value=key) for key, label in (fixed or {}).items()]
    if options is not None:
        items.append(rx.foreach(options, lambda o: rx.select.item(o, value=o)))
    return rx.select.root(
        rx.select.trigger(aria_label=any_label, variant=rx.cond(value == ANY, "surface", "soft")),
        rx.select.content(*items),
        value=value, on_change=lambda v: LibraryState.handle_filter(name, v), size="2",
    )


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
                rx.select.root(
                    rx.select.trigger(aria_label="Sort by"),
                    rx.select.content(*[rx.select.item(label, value=key) for key, label in SORTS.items()]),
                    value=LibraryState.sort, on_change=lambda v: LibraryState.handle_filter("sort", v), size="3"),
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
                      _date("taken_to", LibraryState.taken_to, "Taken until"), spacing="2", align="center"),
            rx.select.root(
                rx.select.trigger(placeholder="Filter by tag", aria_label="Filter by tag"),
                rx.select.content(rx.foreach(LibraryState.known_tags, lambda t: rx.select.item(t, value=t))),
                value="", on_change=LibraryState.add_tag_filter, size="2",
            ),
            rx.foreach(LibraryState.tags, tag_chip),
            rx.cond(LibraryState.filtered,
                    rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", color_scheme="gray",
                              size="2", on_click=LibraryState.clear_filters)),
            width="100%", spacing="2", wrap="wrap", align="center",
        ),
        width="100%", spacing="3",
    )
