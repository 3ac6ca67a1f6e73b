"""/admin/billing sections: plans with their version history, packs, money and reconciliation tables."""

import reflex as rx

from components.billing.sections import GAP_S, card
from components.layout.auth_card import error_callout
from state.admin_billing import AdminBillingState

TERMS = (("Stripe price id", "stripe_price_id", "price_…"), ("Price (cents)", "amount_cents", "0"),
         ("Currency", "currency", "usd"), ("Credits a month", "monthly_credits", "0"),
         ("Renames a month", "monthly_rename_quota", "0"), ("Member limit", "member_limit", "No limit"),
         ("Storage limit (MB)", "storage_limit_mb", "No limit"))


def _input(label: str, name: str, hint: str, value, prefix: str) -> rx.Component:
    return rx.vstack(rx.text(label, as_="label", html_for=prefix + name, size="1", weight="medium"),
                     rx.input(name=name, id=prefix + name, default_value=value, placeholder=hint, size="2",
                              max_length=100, width="100%"),
                     spacing="1", min_width="150px", flex="1")


def _plan_form(plan: rx.Var | None) -> rx.Component:
    prefix = "new_" if plan is None else "edit_"
    value = (lambda key: "") if plan is None else (lambda key: plan[key])
    head = [_input("Key", "key", "studio", "", prefix)] if plan is None else []
    extra = [] if plan is None else [rx.el.label(rx.hstack(
        rx.checkbox(name="active", default_checked=plan["active"] == "yes"), rx.text("Offered", size="2"),
        spacing="2", align="center"))]
    return rx.form(rx.vstack(
        rx.flex(*head, _input("Name", "name", "Studio", value("name"), prefix),
                *[_input(label, name, hint, value(name), prefix) for label, name, hint in TERMS],
                **GAP_S, wrap="wrap", width="100%"),
        *extra,
        rx.text("Saving adds a version: new subscriptions take it at once, running ones at their next renewal.",
                size="1", color=rx.color("gray", 10)),
        error_callout(AdminBillingState.form_error),
        rx.hstack(rx.button("Save as new version" if plan is not None else "Create plan", type="submit"),
                  rx.button("Cancel", variant="soft", color_scheme="gray", type="button",
                            on_click=AdminBillingState.set_editing("")), spacing="2"),
        spacing="3", width="100%"), on_submit=AdminBillingState.save_plan, reset_on_submit=False, width="100%")


def _history(plan_id: rx.Var) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "Version", "Price id", "Price", "Credits", "Renames", "Members", "Storage", "Saved (UTC)")])),
        rx.table.body(rx.foreach(AdminBillingState.history[plan_id], lambda v: rx.table.row(
            *[rx.table.cell(v[k]) for k in ("version", "price", "amount", "credits", "quota", "members", "storage",
                                            "created")]))),
        size="1", width="100%")


def _plan(plan: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.heading(plan["name"], size="3"), rx.badge(plan["version"], variant="soft"),
                  rx.cond(plan["free"] == "yes", rx.badge("free plan", color_scheme="green")),
                  rx.cond(plan["active"] == "", rx.badge("not offered", color_scheme="gray")),
                  rx.spacer(),
                  rx.button("Edit", size="1", variant="soft", on_click=AdminBillingState.set_editing(plan["id"]),
                            aria_label="Edit " + plan["name"]),
                  width="100%", align="center"),
        rx.cond(AdminBillingState.editing == plan["id"], _plan_form(plan)),
        rx.box(_history(plan["id"]), width="100%", overflow_x="auto"),
        spacing="3", width="100%"), width="100%")


def plans_card() -> rx.Component:
    return card("Plans", "The terms each plan gives: credits and renames a month, members, storage. Every edit "
                "is kept as a version.",
                rx.foreach(AdminBillingState.plans, _plan),
                rx.cond(AdminBillingState.editing == "new", _plan_form(None),
                        rx.button(rx.icon("plus", size=16), "New plan", variant="soft", width="fit-content",
                                  on_click=AdminBillingState.set_editing("new"))))


def _pack_form(pack: rx.Var | None) -> rx.Component:
    prefix = "newpack_" if pack is None else "pack_"
    value = (lambda key: "") if pack is None else (lambda key: pack[key])
    return rx.form(rx.flex(
        rx.el.input(type="hidden", name="pack_id", value="" if pack is None else pack["id"]),
        _input("Name", "name", "Starter", value("name"), prefix),
        _input("Credits", "credits", "500", value("credits"), prefix),
        _input("Stripe price id", "stripe_price_id", "price_…", value("price_id"), prefix),
        _input("Price (cents)", "amount_cents", "900", value("amount_cents"), prefix),
        _input("Currency", "currency", "usd", "usd" if pack is None else pack["currency"], prefix),
        *([] if pack is None else [rx.el.label(rx.hstack(
            rx.checkbox(name="active", default_checked=pack["active"] == "yes"),
            rx.text("On sale", size="2"), spacing="2", align="center"))]),
        rx.button("Save" if pack is not None else "Add pack", type="submit", variant="soft"),
        **GAP_S, wrap="wrap", align="end", width="100%"), on_submit=AdminBillingState.save_pack,
        reset_on_submit=pack is None, width="100%")


def packs_card() -> rx.Component:
    return card("Credit packs", "Sold once through Stripe Checkout. Untick On sale to stop selling one.",
                rx.foreach(AdminBillingState.packs, lambda p: rx.box(_pack_form(p), width="100%")),
                rx.separator(size="4"), _pack_form(None), error_callout(AdminBillingState.pack_error))


def effects_card(title: str, rows: rx.Var, empty: str) -> rx.Component:
    return card(title, "", rx.cond(rows.length() > 0, rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "When (UTC)", "Workspace", "Kind", "Credits", "Owed", "Amount", "Stripe object")])),
        rx.table.body(rx.foreach(rows, lambda e: rx.table.row(*[rx.table.cell(e[k]) for k in (
            "when", "workspace", "kind", "credits", "shortfall", "amount", "object")]))),
        size="1", width="100%"), overflow_x="auto", width="100%"),
        rx.text(empty, size="2", color=rx.color("gray", 10))))


def issues_card() -> rx.Component:
    return card("Reconciliation", "Stripe's events compared with the ledger: each payment must have exactly one "
                "ledger row.", rx.cond(AdminBillingState.issues.length() > 0, rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Found (UTC)", "Kind", "Business key", "Detail", "Resolved")])),
                    rx.table.body(rx.foreach(AdminBillingState.issues, lambda i: rx.table.row(
                        *[rx.table.cell(i[k]) for k in ("found", "kind", "key", "detail", "resolved")]))),
                    size="1", width="100%"),
                    rx.callout("No mismatches found.", icon="circle-check", color_scheme="green")))


def workspace_plans_card() -> rx.Component:
    return card("Each workspace's plan", "", rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Workspace", "Plan", "Version",
                                                                                 "Status")])),
        rx.table.body(rx.foreach(AdminBillingState.workspace_plans, lambda w: rx.table.row(
            *[rx.table.cell(w[k]) for k in ("workspace", "plan", "version", "status")]))),
        size="1", width="100%"))
