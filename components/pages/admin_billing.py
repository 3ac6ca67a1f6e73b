"""/admin/billing: plans and their versions, packs, payments, refunds, disputes, reconciliation, plans in use."""

import reflex as rx

from components.billing.admin import effects_card, issues_card, packs_card, plans_card, workspace_plans_card
from components.layout.shell import app_shell, page_header
from state.admin_billing import AdminBillingState


def admin_billing_page() -> rx.Component:
    return app_shell(
        page_header("Billing", "Plans, credit packs and what Stripe paid."),
        rx.vstack(
            plans_card(),
            rx.cond(AdminBillingState.enabled, rx.vstack(
                packs_card(),
                issues_card(),
                effects_card("Payments", AdminBillingState.payments, "No payments yet."),
                effects_card("Refunds", AdminBillingState.refunds, "No refunds."),
                effects_card("Disputes", AdminBillingState.disputes, "No disputes."),
                workspace_plans_card(),
                spacing="5", width="100%"),
                rx.callout("Stripe is not configured (STRIPE_SECRET_KEY): packs and payments appear once it is. "
                           "Plans still set each workspace's rename quota and limits.", icon="info")),
            spacing="5", width="100%"),
    )
