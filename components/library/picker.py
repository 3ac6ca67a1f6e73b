"""The pickers' search row (Rename, Workflows, Slides): a search box and "Include workflow outputs"."""

import reflex as rx


def picker_search(value: rx.Var, on_search, include: rx.Var, on_include, *, label: str = "Search the library"
                  ) -> rx.Component:
    return rx.hstack(
        rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Search names, tags, alt text…",
                 value=value, on_change=on_search.debounce(300), size="2", flex="1", min_width="160px",
                 aria_label=label, type="search", class_name="picker-search"),
        rx.hstack(rx.switch(checked=include, on_change=on_include, size="1", aria_label="Include workflow outputs"),
                  rx.text("Include workflow outputs", size="1", color=rx.color("gray", 11)),
                  spacing="2", align="center", as_="label"),
        width="100%", spacing="3", align="center", wrap="wrap",
    )


def picker_caption(name: rx.Var) -> rx.Component:
    return rx.text(name, size="1", overflow="hidden", text_overflow="ellipsis", white_space="nowrap",
                   title=name, margin_top="4px", color=rx.color("gray", 11))


def picture_choices(pictures: rx.Var, query: rx.Var, tile, *, empty: str) -> rx.Component:
    """The body of a pick-one-picture dialog: the tiles in a scrolling grid, or why there are none."""
    return rx.cond(pictures.length() > 0,
                   rx.scroll_area(rx.grid(rx.foreach(pictures, tile), columns="4", spacing="2", width="100%",
                                          padding_right="14px"),  # the scrollbar is drawn over the content
                                  max_height="52vh", type="auto", scrollbars="vertical"),
                   rx.text(rx.cond(query != "", "No ready picture matches that search.", empty),
                           size="2", color=rx.color("gray", 10), padding_y="24px"))
