"""/billing: the workspace's plan, credits, buying, budgets and payments (owners and admins)."""

import reflex as rx

from components.billing.sections import billing_body
from components.layout.shell import app_shell, page_header
from state.billing import BillingState
from state.session import SessionState


def billing_page() -> rx.Component:
    return app_shell(
        page_header("Billing", "Your plan, credits and payments for this workspace."),
        rx.cond(BillingState.loaded, billing_body(),
                rx.cond(~BillingState.enabled & SessionState.checked,
                        rx.text("Billing is off on this server: an admin grants credits.",
                                color=rx.color("gray", 11)))),
    )
