"""The Billing page's sections: plan, credits, buying, budgets, payments."""

import reflex as rx

from components.layout.auth_card import error_callout
from state.billing import BillingState
from state.session import SessionState

# Gaps between fields and cards in px (Radix's numbered gaps did not reach these flexes).
GAP = {"column_gap": "16px", "row_gap": "16px"}
GAP_S = {"column_gap": "12px", "row_gap": "12px"}


def card(title: str, text: str, *content: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(
        rx.vstack(rx.heading(title, size="4", as_="h2"),
                  rx.cond(text != "", rx.text(text, size="2", color=rx.color("gray", 11))), spacing="1"),
        *content, spacing="4", width="100%"), size="3", width="100%", **props)


def figure(label: str, value, note=None) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color=rx.color("gray", 10), text_transform="uppercase",
                             letter_spacing="0.05em", weight="bold"),
                     rx.text(value, size="6", weight="bold"),
                     rx.cond(note is not None, rx.text(note, size="1", color=rx.color("gray", 10))) if note is not None
                     else rx.fragment(), spacing="1")


def arrival_banner() -> rx.Component:
    return rx.match(
        BillingState.arrival,
        ("waiting", rx.callout(rx.hstack(rx.spinner(size="2"), rx.text("Payment received — credits arrive in a "
                                                                         "moment."), spacing="2", align="center"),
                               color_scheme="blue", role="status", width="100%")),
        ("arrived", rx.callout("Payment received — your credits have arrived.", icon="circle-check",
                               color_scheme="green", role="status", width="100%")),
        ("late", rx.callout("Stripe has not confirmed the payment yet. Your credits appear here as soon as it "
                            "does; nothing is charged twice.", icon="clock", color_scheme="amber", role="status",
                            width="100%")),
        rx.fragment(),
    )


def plan_card() -> rx.Component:
    plan = BillingState.plan
    return card(
        "Your plan", "",
        rx.hstack(rx.heading(plan["name"], size="6"), rx.badge(plan["price"], variant="soft", size="2"),
                  rx.cond(BillingState.subscription_status != "",
                          rx.badge(BillingState.subscription_status, color_scheme="violet", size="2")),
                  spacing="3", align="center"),
        rx.flex(*[rx.hstack(rx.icon(icon, size=16, color=rx.color("gray", 10)), rx.text(plan[key], size="2"),
                            spacing="2", align="center")
                  for icon, key in (("coins", "credits"), ("file-pen-line", "quota"), ("users-round", "members"),
                                    ("hard-drive", "storage"))],
                column_gap="28px", row_gap="8px", wrap="wrap"),
        rx.button(rx.icon("credit-card", size=16), "Manage cards and invoices", variant="soft", size="2",
                  on_click=BillingState.open_portal, width="fit-content"),
    )


def credits_card() -> rx.Component:
    return card(
        "Credits", "",
        rx.hstack(figure("Balance", BillingState.balance.to_string()),
                  figure("Held by running jobs", BillingState.held.to_string()),
                  figure("Spent this month", BillingState.spent.to_string()),
                  rx.cond(BillingState.debt > 0, figure("Owed", BillingState.debt.to_string())),
                  spacing="8", wrap="wrap"),
        rx.cond(BillingState.debt > 0, rx.callout(
            "A refund or dispute took back more credits than were left. New jobs wait until a purchase covers it.",
            icon="triangle-alert", color_scheme="red", width="100%")),
        id="billing-credits",
    )


def _pack(pack: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(pack["name"], weight="bold", size="3"),
        rx.text(pack["credits"], size="5", weight="bold", color=rx.color("violet", 11)),
        rx.text(pack["price"], size="2", color=rx.color("gray", 11)),
        rx.button("Buy", on_click=BillingState.buy_pack(pack["id"]), width="100%", aria_label="Buy " + pack["name"]),
        spacing="2", align="start"), min_width="180px", flex="1")


def _plan(plan: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(plan["name"], weight="bold", size="3"),
        rx.text(plan["price"], size="4", weight="bold", color=rx.color("violet", 11)),
        *[rx.text(plan[key], size="2", color=rx.color("gray", 11)) for key in ("credits", "quota", "members",
                                                                                "storage")],
        rx.button("Subscribe", variant="outline", on_click=BillingState.subscribe(plan["id"]), width="100%",
                  disabled=BillingState.subscription_status != "", aria_label="Subscribe to " + plan["name"]),
        spacing="2", align="start"), min_width="200px", flex="1")


def buy_card() -> rx.Component:
    return card(
        "Buy credits", "Paid securely on Stripe. Credits are added when Stripe confirms the payment.",
        rx.cond(BillingState.packs.length() > 0, rx.flex(rx.foreach(BillingState.packs, _pack), **GAP, wrap="wrap"),
                rx.text("No credit packs are on sale yet.", size="2", color=rx.color("gray", 10))),
        rx.cond(BillingState.plans.length() > 0, rx.vstack(
            rx.heading("Plans", size="3", as_="h3"),
            rx.cond(BillingState.subscription_status != "",
                    rx.text("To change plan or cancel, use Manage cards and invoices.", size="2",
                            color=rx.color("gray", 11))),
            rx.flex(rx.foreach(BillingState.plans, _plan), **GAP, wrap="wrap"),
            spacing="3", width="100%")),
    )


def _field(label: str, name: str, key: str, hint: str = "") -> rx.Component:
    return rx.vstack(rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
                     rx.input(name=name, id=name, default_value=BillingState.budget[key], key=BillingState.budget[key],
                              placeholder=hint, size="2", max_length=100, width="100%"),
                     spacing="1", min_width="180px", flex="1")


def budget_card() -> rx.Component:
    return card(
        "Budgets and warnings", "Monthly limits on spending (empty: no limit), emails to owners and admins when "
        "the balance falls below a mark, and an optional automatic top-up.",
        rx.form(rx.vstack(
            rx.flex(_field("Workspace monthly cap", "monthly_cap", "monthly_cap", "No limit"),
                    _field("Each member's monthly cap", "member_cap", "member_cap", "No limit"),
                    _field("Warn below (credits)", "thresholds", "thresholds", "e.g. 100, 20"), **GAP, wrap="wrap",
                    width="100%"),
            rx.flex(
                rx.vstack(rx.text("Automatic top-up pack", size="2", weight="medium"),
                          rx.el.select(rx.el.option("Off", value=""),
                                       rx.foreach(BillingState.packs,
                                                  lambda p: rx.el.option(p["name"] + " · " + p["price"],
                                                                         value=p["id"])),
                                       name="topup_pack", id="topup_pack",
                                       default_value=BillingState.budget["topup_pack"],
                                       key=BillingState.budget["topup_pack"], aria_label="Automatic top-up pack",
                                       style={"padding": "6px", "borderRadius": "6px"}),
                          spacing="1", min_width="180px", flex="1"),
                _field("Top up below (credits)", "topup_below", "topup_below"),
                _field("Top-up ceiling per month (credits)", "topup_max", "topup_max"),
                **GAP, wrap="wrap", width="100%"),
            rx.cond(BillingState.member_caps.length() > 1, rx.vstack(
                rx.text("Members' own monthly caps (empty: the cap for each member above)", size="2",
                        weight="medium"),
                rx.flex(rx.foreach(BillingState.member_caps, lambda m: rx.vstack(
                    rx.text(m["who"], size="1", color=rx.color("gray", 11)),
                    rx.input(name="cap_" + m["user_id"], default_value=m["cap"], key=m["user_id"] + m["cap"],
                             placeholder="Default", size="2", max_length=12, width="100%",
                             aria_label="Monthly cap for " + m["who"]),
                    spacing="1", min_width="180px", flex="1")), **GAP, wrap="wrap", width="100%"),
                spacing="2", width="100%")),
            rx.text("Topped up this month: ", BillingState.budget["topped_up"], " credits", size="1",
                    color=rx.color("gray", 10)),
            error_callout(BillingState.budget_error),
            rx.button("Save budget", type="submit"),
            spacing="4", width="100%"), on_submit=BillingState.save_budget, reset_on_submit=False, width="100%"),
    )


def payments_card() -> rx.Component:
    return card("Recent payments", "", rx.cond(
        BillingState.payments.length() > 0,
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                     ("When (UTC)", "What", "Credits", "Amount")])),
                      rx.table.body(rx.foreach(BillingState.payments, lambda p: rx.table.row(
                          rx.table.cell(p["when"]), rx.table.cell(p["kind"]), rx.table.cell(p["credits"]),
                          rx.table.cell(p["amount"])))), width="100%"),
        rx.text("No payments yet.", size="2", color=rx.color("gray", 10))))


def billing_body() -> rx.Component:
    return rx.vstack(
        arrival_banner(), credits_card(), plan_card(), buy_card(),
        rx.cond(SessionState.allowed["budgets.manage"], budget_card()),
        payments_card(), spacing="5", width="100%")
