"""One picture's page: the large preview beside its editable name, alt text and tags, its facts, where it
came from and what was made from it, its collections and where it is used."""

import reflex as rx

from app import routes
from components.layout.confirm import confirm_action
from components.layout.shell import app_shell
from state.asset_detail import FORM_ID, AssetDetailState
from state.session import SessionState

P = AssetDetailState.picture


def fact(label: str, value: rx.Var) -> rx.Component:
    return rx.cond(value != "", rx.hstack(rx.text(label, size="2", color=rx.color("gray", 10), min_width="96px"),
                                          rx.text(value, size="2", word_break="break-word"),
                                          align="start", width="100%"))


def swatch(hex_: rx.Var) -> rx.Component:
    return rx.box(width="22px", height="22px", border_radius="6px", background=hex_, title=hex_,
                  border=f"1px solid {rx.color('gray', 5)}")


def mini_card(card: rx.Var) -> rx.Component:
    return rx.link(
        rx.vstack(rx.center(rx.image(src=card["thumb"], alt=card["filename"], max_width="100%", max_height="100%",
                                     object_fit="contain"),
                            width="96px", height="96px", background=rx.color("gray", 3), border_radius="8px",
                            padding="4px"),
                  rx.text(card["filename"], size="1", max_width="96px", overflow="hidden", text_overflow="ellipsis",
                          white_space="nowrap"), spacing="1"),
        href=card["href"], underline="none", color="inherit")


def section(title: str, *content) -> rx.Component:
    return rx.vstack(rx.text(title, size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase",
                             letter_spacing="0.06em"), *content, spacing="2", width="100%")


def conflict_row(row: rx.Var) -> rx.Component:
    return rx.hstack(rx.text(row["label"], size="1", weight="medium", min_width="72px"),
                     rx.text(row["now"], size="1", word_break="break-word"), align="start", width="100%")


def conflict_notice() -> rx.Component:
    """After a save refused because another tab or person changed the same field: what it says now, and the
    person's choice (their text stays in the form until they make it)."""
    s = AssetDetailState
    return rx.cond(s.conflict.length() > 0, rx.callout.root(
        rx.callout.icon(rx.icon("git-merge", size=16)),
        rx.vstack(
            rx.callout.text("This picture was changed in another tab or by someone else since you opened it. "
                            "Nothing was saved.", weight="medium"),
            rx.callout.text("It now says:", size="1"),
            rx.vstack(rx.foreach(s.conflict, conflict_row), spacing="1", width="100%"),
            rx.callout.text("Your text is still in the form. Save yours over it, or reload the picture (your "
                            "changes go).", size="1"),
            # type="button": inside the form a plain button would also submit it, saving over their change
            # at the same time as the reload.
            rx.hstack(rx.button("Save mine over it", size="1", type="button", on_click=s.save_mine_over,
                                id="save-mine-over"),
                      rx.button("Reload the picture", size="1", type="button", variant="soft", color_scheme="gray",
                                on_click=s.reload_picture),
                      spacing="2", wrap="wrap"),
            spacing="2", width="100%",
        ),
        color_scheme="amber", width="100%", role="alert", id="edit-conflict",
    ))


def edit_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("File name", size="2", weight="medium"),
            rx.input(name="filename", default_value=P["filename"], size="3", width="100%",
                     aria_label="File name", max_length=255),
            rx.text("Alt text", size="2", weight="medium"),
            rx.text_area(name="alt_text", default_value=P["alt_text"], rows="3", width="100%",
                         aria_label="Alt text", max_length=300,
                         placeholder="What the picture shows, for screen readers and search"),
            rx.text("Tags", size="2", weight="medium"),
            rx.input(name="tags", default_value=AssetDetailState.tag_list.join(", "), size="3", width="100%",
                     aria_label="Tags", placeholder="comma, separated, tags"),
            rx.hstack(rx.foreach(AssetDetailState.tag_links,
                                 lambda t: rx.link(rx.badge(rx.icon("tag", size=12), t["tag"], variant="soft",
                                                            radius="full"), href=t["href"])),
                      spacing="1", wrap="wrap"),
            conflict_notice(),
            rx.button(rx.icon("save", size=16), "Save", type="submit", size="3"),
            spacing="2", width="100%",
        ),
        # A new key remounts the inputs with the stored values (after a load or a save), and only then.
        key=AssetDetailState.form_version, id=FORM_ID,
        on_submit=AssetDetailState.save_details, width="100%",
    )


def used_row(use: rx.Var) -> rx.Component:
    return rx.hstack(rx.badge(use["kind"], variant="soft", color_scheme="gray"),
                     rx.link(use["label"], href=use["href"], size="2"), rx.spacer(),
                     rx.text(use["when"], size="1", color=rx.color("gray", 10)), width="100%", align="center")


def details() -> rx.Component:
    return rx.grid(
        rx.center(
            rx.image(src=P["preview"], alt=rx.cond(P["alt_text"] != "", P["alt_text"], P["filename"]),
                     max_width="100%", max_height="72vh", object_fit="contain", id="asset-preview"),
            background=rx.color("gray", 3), border_radius="14px", padding="16px", min_height="320px",
            width="100%",
        ),
        rx.vstack(
            edit_form(),
            rx.divider(),
            section("About",
                    fact("Origin", P["origin"]), fact("Pixels", P["dims"]), fact("Size", P["size"]),
                    fact("Type", P["mime"]), fact("Camera", P["camera"]), fact("Taken", P["taken"]),
                    fact("Added", P["added"]), fact("Color", P["colour"]),
                    rx.hstack(rx.foreach(P["swatches"].split(","), swatch), spacing="1")),
            rx.cond(AssetDetailState.sources.length() > 0,
                    section("Made from", rx.hstack(rx.foreach(AssetDetailState.sources, mini_card), wrap="wrap"))),
            rx.cond(AssetDetailState.outputs.length() > 0,
                    section("Made from this", rx.hstack(rx.foreach(AssetDetailState.outputs, mini_card),
                                                        wrap="wrap"))),
            section("Collections",
                    rx.cond(AssetDetailState.in_collections.length() > 0,
                            rx.hstack(rx.foreach(AssetDetailState.in_collections,
                                                 lambda c: rx.link(rx.badge(rx.icon("folder", size=12), c["name"],
                                                                            variant="outline"), href=c["href"])),
                                      wrap="wrap", spacing="1"),
                            rx.text("In no collection.", size="2", color=rx.color("gray", 10)))),
            section("Used in",
                    rx.cond(AssetDetailState.uses.length() > 0,
                            rx.vstack(rx.foreach(AssetDetailState.uses, used_row), spacing="1", width="100%"),
                            rx.text("Not used in a rename, generation, workflow or deck yet.", size="2",
                                    color=rx.color("gray", 10)))),
            rx.hstack(
                rx.link(rx.button(rx.icon("download", size=16), "Download", variant="soft", tab_index=-1),
                        href=P["download"], reload_document=True),
                # Only roles that may change the library see it (the handler and the API check again).
                rx.cond(SessionState.allowed["assets.write"], confirm_action(
                    rx.button(rx.icon("trash-2", size=16), "Delete", color_scheme="red", variant="soft"),
                    title="Delete this picture?", description="It leaves the library; it can be restored for a "
                    "short while.", confirm_label="Delete", on_confirm=AssetDetailState.delete_picture)),
                spacing="3",
            ),
            spacing="4", width="100%",
        ),
        columns=rx.breakpoints(initial="1", lg="3fr 2fr"), spacing="6", width="100%",
    )


def asset_detail_page() -> rx.Component:
    return app_shell(
        rx.hstack(rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Library"), align="center", spacing="1"),
                          href=routes.ASSETS, size="2"),
                  rx.heading(rx.cond(P["filename"], P["filename"], "Picture"), size="6", overflow="hidden",
                             text_overflow="ellipsis", white_space="nowrap"),
                  spacing="4", align="center", width="100%", margin_bottom="16px"),
        rx.cond(AssetDetailState.missing,
                rx.callout("This picture is not in your library (deleted, or the link is wrong).", icon="image-off",
                           color_scheme="gray"),
                rx.cond(P["id"], details(), rx.center(rx.spinner(size="3"), padding="64px"))),
    )
