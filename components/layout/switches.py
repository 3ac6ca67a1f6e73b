"""A switch with its words: clicking the words flips it, and screen readers read them as its name.

(`rx.hstack(..., as_="label")` only wrote `as: label` into the CSS: the words were not a label, the switch
had no name, and a click on the words did nothing — a first export went out without the XMP the user
thought they had switched on.)"""

import reflex as rx


def labelled_switch(label: str, checked: rx.Var, on_change) -> rx.Component:
    return rx.el.label(
        rx.hstack(rx.switch(checked=checked, on_change=on_change, aria_label=label), rx.text(label, size="2"),
                  align="center", spacing="2"),
        style={"cursor": "pointer", "display": "flex"},
    )
