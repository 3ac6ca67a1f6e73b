"""Long words that people type (a 120-character name with no space, a pasted URL) break inside the box that
holds them instead of widening the page: a heading made the dashboard 3,139 px wide, and a name in the members
table pushed its Role column out of sight.

Headings wrap anywhere on every page. Table cells do not, globally: `anywhere` also lowers a cell's smallest
width, so the table would squeeze its other columns until "Owner" broke mid-word. Only the text a person
typed gets the class, and its column takes the room that is left.
"""

import reflex as rx

WRAP_CLASS = "wrap-anywhere"

WRAP_CSS = f".rt-Heading, .{WRAP_CLASS} {{ overflow-wrap: anywhere; }}"


def wrap_style() -> rx.Component:
    return rx.el.style(WRAP_CSS)
