"""Which capabilities have an AI connection, for the notes beside the pickers (shared by the pages that
have one, like SessionState; loaded in their on_load)."""

from __future__ import annotations

import reflex as rx

from app.services.ai import guidance
from app.services.auth.accounts import UserPublic
from state.session import signed_in

# The words the pickers show (components read them from here, not from the services).
OFFLINE_NOTES = guidance.OFFLINE_NOTES
MISSING = guidance.MISSING


class AIGuideState(rx.State):
    # Picker key (vision, images, text, workflows) → an enabled connection offers a tested model for it.
    # True until loaded, so nobody sees a "not connected" flash.
    connected: dict[str, bool] = dict.fromkeys(guidance.PAGE_CAPABILITIES, True)

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.connected = guidance.connected()
