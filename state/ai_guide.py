"""Which capabilities have an AI connection, for the notes beside the pickers (shared by the pages that
have one, like SessionState; loaded in their on_load)."""

from __future__ import annotations

import reflex as rx

from app.services.ai import guidance
from state.session import require_user, to_sign_in

# The words the pickers show (components read them from here, not from the services).
OFFLINE_NOTES = guidance.OFFLINE_NOTES
MISSING = guidance.MISSING


class AIGuideState(rx.State):
    # Picker key (vision, images, text, workflows) → an enabled connection offers a tested model for it.
    # True until loaded, so nobody sees a "not connected" flash.
    connected: dict[str, bool] = dict.fromkeys(guidance.PAGE_CAPABILITIES, True)

    @rx.event
    async def load_page(self):
        if await require_user(self) is None:
            return to_sign_in(self)
        self.connected = guidance.connected()
