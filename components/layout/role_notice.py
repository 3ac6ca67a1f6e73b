"""What a role cannot do, said before the click: a viewer on a page that makes things sees why its start button
is off, instead of filling a form and meeting a refusal toast. The server still decides (every handler checks
the matrix); this only reads it."""

import reflex as rx

from state.session import SessionState


def may(action: str) -> rx.Var:
    """Whether the caller's role allows `action` here (False until the session is known)."""
    return SessionState.allowed[action]


def role_notice(action: str, doing: str) -> rx.Component:
    """A callout for a role that lacks `action`; `doing` says what it is kept from, as "generate images"."""
    return rx.cond(
        (SessionState.workspace_role != "") & ~may(action),
        rx.callout(
            rx.text("Your role in ", rx.text.strong(SessionState.workspace_name), " (",
                    SessionState.workspace_role_label, f") lets you look, not {doing}. An owner or admin can change "
                    "your role on Team & members."),
            icon="eye", color_scheme="gray", variant="surface", width="100%", margin_bottom="16px",
            id="role-notice",
        ),
    )
