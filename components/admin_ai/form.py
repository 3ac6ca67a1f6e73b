"""Adding or editing a connection: first a preset, then exactly the fields that preset needs."""

import reflex as rx

from state.admin_ai import KEY_FIELD, AdminAIState

MUTED = rx.color("gray", 10)


def preset_card(preset: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(preset["label"], weight="bold", size="2"),
            rx.text(preset["capabilities"], size="1", color=rx.color("violet", 11)),
            rx.cond(preset["help"] != "", rx.text(preset["help"], size="1", color=MUTED)),
            spacing="1", align="start",
        ),
        as_child=False, size="1", cursor="pointer", role="button", tab_index=0, aria_label=preset["label"],
        on_click=AdminAIState.choose_preset(preset["name"]), _hover={"border_color": rx.color("violet", 7)},
        height="100%",
    )


def labelled(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control,
                     *([rx.text(hint, size="1", color=MUTED)] if hint else []), spacing="1", width="100%")


def option_field(f: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(f["label"], size="2", weight="medium"),
        rx.input(name=f["name"], default_value=f["value"], aria_label=f["label"], width="100%", max_length=500,
                 required=f["required"] == "yes"),
        rx.cond(f["help"] != "", rx.text(f["help"], size="1", color=MUTED)),
        spacing="1", width="100%",
    )


def key_field() -> rx.Component:
    s = AdminAIState
    spec = s.form_spec
    editing = s.editing != "new"
    return rx.cond(spec["key"] != "none", rx.vstack(
        rx.text(spec["key_label"] + rx.cond(spec["key"] == "optional", " (optional)", ""), size="2",
                weight="medium"),
        rx.input(name="api_key", id=KEY_FIELD, type="password", autocomplete="new-password", width="100%",
                 max_length=4000, aria_label=spec["key_label"],
                 placeholder=rx.cond(editing & s.form_has_key, "leave blank to keep the stored key", ""),
                 required=(spec["key"] == "required") & ~(editing & s.form_has_key)),
        rx.cond(editing & s.form_has_key,
                rx.text("Leave blank to keep the stored key.", size="1", color=MUTED)),
        rx.cond(editing & s.form_has_key & (spec["key"] == "optional"),
                rx.checkbox("Remove the stored key", name="clear_key", size="1")),
        spacing="1", width="100%",
    ))


def connection_fields() -> rx.Component:
    s = AdminAIState
    spec = s.form_spec
    return rx.form(
        rx.vstack(
            rx.cond(spec["help"] != "", rx.text(spec["help"], size="2", color=rx.color("gray", 11))),
            labelled("Name", rx.input(name="name", default_value=s.form_values["name"], required=True,
                                      max_length=80, aria_label="Name", width="100%")),
            rx.cond(spec["needs_url"] == "yes",
                    labelled("Address", rx.input(name="base_url", default_value=s.form_values["base_url"],
                                                 placeholder=rx.cond(spec["base_url"] != "", spec["base_url"],
                                                                     "http://127.0.0.1:8000/v1"),
                                                 required=spec["base_url"] == "", max_length=500,
                                                 aria_label="Address", width="100%"),
                             "Where Atelier's server reaches it (not your browser).")),
            key_field(),
            rx.foreach(s.form_fields, option_field),
            rx.cond(s.form_error != "", rx.callout(s.form_error, icon="triangle-alert", color_scheme="red",
                                                   size="1", role="alert", width="100%", id="connection-error")),
            rx.hstack(
                rx.cond(s.editing == "new",
                        rx.button(rx.icon("arrow-left", size=14), "Other presets", variant="soft",
                                  color_scheme="gray", type="button", on_click=s.open_add)),
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray", type="button", on_click=s.close_editor),
                rx.button(rx.cond(s.editing == "new", "Add and test", "Save and test"), type="submit"),
                spacing="3", width="100%", margin_top="4px",
            ),
            spacing="3", width="100%",
        ),
        on_submit=s.save_connection, key=s.editing + "|" + s.form_preset, width="100%",
    )


def connection_dialog() -> rx.Component:
    s = AdminAIState
    choosing = (s.editing == "new") & (s.form_preset == "")
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(choosing, "Add a connection",
                                    rx.cond(s.editing == "new", "Add " + s.form_spec["label"],
                                            "Edit " + s.form_spec["label"] + " connection"))),
            rx.dialog.description(rx.cond(choosing, "What kind of server is it?",
                                          "The connection is tested as soon as it is saved."),
                                  size="2", color=rx.color("gray", 11), margin_bottom="12px"),
            rx.cond(choosing,
                    rx.grid(rx.foreach(s.presets, preset_card), columns=rx.breakpoints(initial="1", sm="2"),
                            spacing="2", width="100%"),
                    connection_fields()),
            max_width=rx.cond(choosing, "720px", "520px"),
        ),
        open=s.editing != "",
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), s.close_editor()),
    )
