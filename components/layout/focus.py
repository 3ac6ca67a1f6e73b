"""One focus ring for everything a keyboard can reach that is not a Radix control (image tiles, cards with
role=button, links around buttons): Radix styles its own controls, a plain box gets nothing."""

import reflex as rx

FOCUS_CSS = (
    "[role=button]:focus-visible, [tabindex]:not([tabindex='-1']):focus-visible, a:focus-visible {"
    " outline: 2px solid var(--accent-9); outline-offset: 2px; }"
    # Library tiles: a selected tile already has a violet outline, so focus adds a halo around it too.
    " .asset-card:focus-visible { outline: 3px solid var(--accent-9); outline-offset: 2px;"
    " box-shadow: 0 0 0 6px var(--accent-a4); }"
)


def focus_style() -> rx.Component:
    return rx.el.style(FOCUS_CSS)
