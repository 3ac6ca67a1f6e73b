"""The invitation page: a link from an email. Public: signed-out visitors see what they are invited to."""

import reflex as rx

from app import routes
from components.layout.auth_card import auth_frame, error_callout
from components.workspace.roles import role_badge
from state.invite import InviteState
from state.session import SessionState


def _offer() -> rx.Component:
    offer = InviteState.offer
    return rx.vstack(
        rx.hstack(
            rx.center(rx.text(offer["workspace"].to(str)[0].upper(), size="5", weight="bold"),
                      width="48px", height="48px", border_radius="12px", background=rx.color("violet", 4),
                      color=rx.color("violet", 11), flex_shrink="0", aria_hidden="true"),
            rx.vstack(rx.text(offer["workspace"], size="5", weight="bold"),
                      rx.hstack(rx.text("as", size="2", color=rx.color("gray", 11)),
                                role_badge(offer["role"], offer["role_label"], "2"), spacing="2", align="center"),
                      spacing="1"),
            spacing="3", align="center",
        ),
        rx.text(offer["role_help"], size="2", color=rx.color("gray", 11)),
        rx.vstack(
            rx.cond(offer["inviter"] != "", rx.text("Invited by ", rx.text.strong(offer["inviter"]), size="2")),
            rx.text("For ", rx.text.strong(offer["email"]), size="2"),
            rx.text("The link works until " + offer["expires"] + ".", size="1", color=rx.color("gray", 10)),
            spacing="1",
        ),
        spacing="3", width="100%",
    )


def _signed_in_actions() -> rx.Component:
    return rx.cond(
        InviteState.other_email != "",
        rx.vstack(
            rx.callout(InviteState.other_email, icon="user-x", color_scheme="amber", width="100%"),
            rx.button("Sign out", variant="soft", size="3", width="100%", on_click=SessionState.sign_out),
            width="100%",
        ),
        rx.button(rx.icon("log-in", size=16), "Join " + InviteState.offer["workspace"] + " as "
                  + InviteState.offer["role_label"], size="3", width="100%", on_click=InviteState.accept),
    )


def _signed_out_actions() -> rx.Component:
    have = InviteState.offer["has_account"] == "yes"
    return rx.vstack(
        rx.link(rx.button("Sign in to accept", size="3", width="100%", variant=rx.cond(have, "solid", "soft")),
                href=InviteState.sign_in_href, width="100%"),
        rx.link(rx.button("Create an account", size="3", width="100%", variant=rx.cond(have, "soft", "solid")),
                href=InviteState.sign_up_href, width="100%"),
        rx.text("Either way you come back here to join.", size="1", color=rx.color("gray", 10),
                align="center", width="100%"),
        spacing="2", width="100%",
    )


def invite_page() -> rx.Component:
    return auth_frame(
        "You are invited", "To work together in a team workspace on this Atelier.",
        rx.match(
            InviteState.status,
            ("open", rx.vstack(_offer(), rx.separator(size="4"),
                               rx.cond(SessionState.signed_in, _signed_in_actions(), _signed_out_actions()),
                               spacing="4", width="100%")),
            ("closed", rx.vstack(error_callout(InviteState.problem),
                                 rx.link("Go to Atelier", href=routes.HOME, size="2"), spacing="3", width="100%")),
            rx.center(rx.spinner(size="3"), padding="24px", width="100%"),
        ),
    )
