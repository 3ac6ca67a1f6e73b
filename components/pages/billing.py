"""/billing: the workspace's plan, credits, buying, budgets and payments (owners and admins)."""

import reflex as rx

from app import routes
from components.billing.sections import billing_body
from components.layout.shell import app_shell, page_header
from state.billing import BillingState
from state.session import SessionState


def billing_page() -> rx.Component:
    return app_shell(
        page_header("Billing", "Your plan, credits and payments for this workspace."),
        rx.cond(BillingState.loaded, billing_body(),
                rx.cond(BillingState.off, billing_off())),
    )


def billing_off() -> rx.Component:
    """Reached by its address while this server sells nothing: say where credits come from instead, and where
    to see them (the link is not in the menu then)."""
    return rx.callout(
        rx.vstack(
            rx.text("Billing is off on this server: there are no plans or packs to buy here. Credits come from a "
                    "site admin, who grants them on the Users page; the Dashboard shows this workspace's balance."),
            rx.hstack(
                rx.link(rx.button("Open the Dashboard", variant="soft", size="2"), href=routes.DASHBOARD),
                rx.cond(SessionState.is_admin,
                        rx.link(rx.button("Grant credits (Users)", variant="outline", size="2"),
                                href=routes.ADMIN_USERS)),
                spacing="2", wrap="wrap",
            ),
            spacing="3", align="start",
        ),
        icon="info", color_scheme="gray", variant="surface", max_width="640px", id="billing-off",
    )
