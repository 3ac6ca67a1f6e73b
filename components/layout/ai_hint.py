"""The notes under an AI picker: what the offline engine can and cannot do, and who can connect more."""

import reflex as rx

from app import routes
from state.ai_guide import MISSING, OFFLINE_NOTES, AIGuideState
from state.session import SessionState


def offline_note(key: str) -> rx.Component:
    """The offline engine's honest limits (show it while the offline engine is chosen)."""
    return rx.text(OFFLINE_NOTES[key], size="1", color=rx.color("gray", 10))


def connect_hint(key: str) -> rx.Component:
    """Only when no connection offers this: members are told to ask, admins get a link."""
    return rx.cond(
        AIGuideState.connected[key],
        rx.fragment(),
        rx.callout(
            rx.cond(SessionState.is_admin,
                    rx.text(MISSING[key].split(" — ")[0] + ". ",
                            rx.link("Connect one", href=routes.ADMIN_AI, weight="medium"),
                            " on the AI connections page."),
                    MISSING[key]),
            icon="info", color_scheme="gray", variant="surface", size="1", width="100%",
            class_name=f"ai-hint-{key}",
        ),
    )
