"""The Billing page: the workspace's plan and limits, balance and debt, packs and plans for sale, the Stripe
portal, the owner's budgets and recent payments.

Buying goes to Stripe's hosted Checkout; coming back (`?checkout=success`) says the payment was received and
follows the balance until the webhook has applied it: the page never shows credits the ledger does not hold.
"""

from __future__ import annotations

import asyncio
import time

import reflex as rx

from app import routes
from app.db import session_scope
from app.display import money
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.billing import budgets, checkout, client, overview
from app.services.workspaces import members
from state.session import full_page_load, refused, require_user, signed_in

# How long the page follows the balance after Checkout before saying the credits are late.
FOLLOW_SECONDS = 90
POLL_SECONDS = 0.5


def limit_text(value: int | None, unit: str, unlimited: str) -> str:
    return unlimited if value is None else f"{value:,} {unit}"


def _plan_row(p: dict) -> dict[str, str]:
    return {"id": str(p["plan_id"]), "name": p["name"], "price": money(p["amount_cents"], p["currency"]) + " / month"
            if not p["is_free"] else "Free", "credits": f"{p['monthly_credits']:,} credits a month",
            "quota": f"{p['monthly_rename_quota']:,} renames a month",
            "members": limit_text(p["member_limit"], "members", "Any number of members"),
            "storage": limit_text(p["storage_limit_mb"], "MB of storage", "Unlimited storage"),
            "free": "yes" if p["is_free"] else ""}


def _payment_row(e: dict) -> dict[str, str]:
    labels = {"pack": "Credit pack", "plan_credits": "Plan credits", "topup": "Automatic top-up",
              "refund": "Refund", "dispute": "Dispute", "dispute_won": "Dispute won"}
    return {"id": str(e["id"]), "when": e["created_at"].strftime("%Y-%m-%d %H:%M"),
            "kind": labels.get(e["kind"], e["kind"]), "credits": f"{e['applied_credits']:+,}",
            "amount": money(e["amount_cents"], e["currency"]) if e["amount_cents"] else "",
            "shortfall": f"{e['shortfall']:,}" if e["shortfall"] > 0 else ""}


def _blank(value) -> str:
    return "" if value is None else str(value)


def _number(form: dict, key: str) -> int | None:
    raw = str(form.get(key, "") or "").strip().replace(",", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise AppError(f"{key.replace('_', ' ').capitalize()} must be a whole number or empty.",
                       code="invalid_budget")
    return int(raw)


def _member_caps(form: dict) -> dict[int, int | None]:
    """The form's `cap_<user id>` fields: a number sets that member's cap, empty removes it."""
    caps = {}
    for key in form:
        user_id = parse_id(key[4:]) if str(key).startswith("cap_") else 0
        if user_id:
            caps[user_id] = _number(form, key)
    return caps


def _to_stripe(state: rx.State, user: UserPublic, start) -> rx.event.EventSpec:
    """The role check, then `start(session, user, return_url)` → Stripe's page in this tab. The return
    URL carries the newest payment seen, so coming back can tell this payment from older ones."""
    if (denied := refused(user, "billing.manage")) is not None:
        return denied
    try:
        with session_scope() as session:
            url = start(session, user, routes.billing_return_url(state._newest))
    except AppError as exc:
        return rx.toast.error(exc.message)
    return full_page_load(url)  # Stripe's page, in this tab (coming back reloads the page afresh)


class BillingState(rx.State):
    # Billing configured on this server (STRIPE_SECRET_KEY); the page says so when it is not.
    enabled: bool = False
    # Set by load_page only: "billing is off" showed for a moment on every load of a server that sells, while
    # `enabled` still had its default.
    off: bool = False
    # The current plan as shown: id, name, price, credits, quota, members, storage, free.
    plan: dict[str, str] = {}
    balance: int = 0
    held: int = 0
    debt: int = 0
    spent: int = 0
    subscription_status: str = ""
    # Packs for sale: id, name, credits, price.
    packs: list[dict[str, str]] = []
    # Paid plans for sale (see _plan_row).
    plans: list[dict[str, str]] = []
    # Recent payments, refunds, disputes: id, when, kind, credits, amount, shortfall.
    payments: list[dict[str, str]] = []
    # The owner's budget form, as text: monthly_cap, member_cap, thresholds, topup_pack, topup_below, topup_max.
    budget: dict[str, str] = {}
    budget_error: str = ""
    # Each member's own monthly cap (owners' form): user_id, who, cap ("" = the default for members).
    member_caps: list[dict[str, str]] = []
    # After Checkout: "waiting" (payment received, credits on their way), "arrived", "late", or "".
    arrival: str = ""
    following: bool = False
    loaded: bool = False
    # The newest payment's id when the page last read (server-side only: goes into the Checkout return URL).
    _newest: int = 0

    def _load(self, user: UserPublic) -> int:
        """Read everything shown; returns the newest payment's id (0: none)."""
        with session_scope() as session:
            data = overview.workspace_billing(session=session, workspace_id=user.workspace_id)
            budget = overview.budget_dict(session=session, workspace_id=user.workspace_id) \
                if user.can("budgets.manage") else None
            people = members.list_members(session=session, workspace_id=user.workspace_id) if budget else []
        self.plan = _plan_row(data["plan"])
        self.balance, self.held, self.debt, self.spent = data["balance"], data["held"], data["debt"], \
            data["spent_this_month"]
        sub = data["subscription"]
        self.subscription_status = sub["status"] if sub else ""
        self.packs = [{"id": str(p["id"]), "name": p["name"], "credits": f"{p['credits']:,} credits",
                       "price": money(p["amount_cents"], p["currency"])} for p in data["packs"]]
        self.plans = [_plan_row(p) for p in data["plans"] if not p["is_free"]]
        self.payments = [_payment_row(e) for e in data["payments"]]
        if budget is not None:
            self.budget = {"monthly_cap": _blank(budget["monthly_cap"]), "member_cap": _blank(budget["member_cap"]),
                           "thresholds": budget["low_balance_thresholds"].replace(",", ", "),
                           "topup_pack": _blank(budget["auto_topup_pack_id"]),
                           "topup_below": _blank(budget["auto_topup_below"]),
                           "topup_max": _blank(budget["auto_topup_monthly_max"]),
                           "topped_up": f"{budget['topped_up_this_month']:,}"}
            caps = budget["member_caps"]
            self.member_caps = [{"user_id": str(m["user_id"]), "who": m["name"] or m["email"],
                                 "cap": _blank(caps.get(str(m["user_id"])))} for m in people]
        self.loaded = True
        self._newest = data["payments"][0]["id"] if data["payments"] else 0
        return self._newest

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.enabled, self.loaded, self.budget_error = client.enabled(), False, ""
        self.off = not self.enabled
        if not self.enabled:
            return
        if not user.can("billing.manage"):
            return [refused(user, "billing.manage"), rx.redirect(routes.DASHBOARD, replace=True)]
        newest = self._load(user)
        query = self.router.url.query_parameters
        self.arrival = ""
        if query.get("checkout") == "success":
            # `after`: the newest payment when Checkout started (in the return URL): anything newer is this one.
            after = parse_id(str(query.get("after", "")))
            if newest > after:
                self.arrival = "arrived"
                return
            self.arrival = "waiting"
            return BillingState.follow_balance(after)

    @rx.event(background=True)
    async def follow_balance(self, last_payment_id: int):
        """After Checkout: re-read until a payment newer than the one seen on return is in the ledger."""
        async with self:
            if self.following:
                return
            self.following = True
        deadline = time.monotonic() + FOLLOW_SECONDS
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(POLL_SECONDS)
                async with self:
                    user = await require_user(self)
                    if user is None or not user.can("billing.manage"):
                        return
                    newest = self._load(user)
                    if newest > last_payment_id:
                        self.arrival = "arrived"
                        return
            async with self:
                self.arrival = "late"
        finally:
            async with self:
                self.following = False

    @rx.event
    @signed_in
    async def buy_pack(self, user: UserPublic, pack_id: str):
        return _to_stripe(self, user, lambda session, user, back: checkout.start_pack_checkout(
            session=session, user=user, workspace_id=user.workspace_id, pack_id=parse_id(pack_id), return_url=back))

    @rx.event
    @signed_in
    async def subscribe(self, user: UserPublic, plan_id: str):
        return _to_stripe(self, user, lambda session, user, back: checkout.start_plan_checkout(
            session=session, user=user, workspace_id=user.workspace_id, plan_id=parse_id(plan_id), return_url=back))

    @rx.event
    @signed_in
    async def open_portal(self, user: UserPublic):
        return _to_stripe(self, user, lambda session, user, _back: checkout.portal_url(
            session=session, user=user, workspace_id=user.workspace_id, return_url=routes.BILLING))

    @rx.event
    @signed_in
    async def save_budget(self, user: UserPublic, form_data: dict):
        if (denied := refused(user, "budgets.manage")) is not None:
            return denied
        try:
            pack = parse_id(str(form_data.get("topup_pack", "") or "")) or None
            form = budgets.BudgetForm(
                monthly_cap=_number(form_data, "monthly_cap"), member_cap=_number(form_data, "member_cap"),
                low_balance_thresholds=str(form_data.get("thresholds", ""))[:100], auto_topup_pack_id=pack,
                auto_topup_below=_number(form_data, "topup_below"),
                auto_topup_monthly_max=_number(form_data, "topup_max"), member_caps=_member_caps(form_data))
            with session_scope() as session:
                budgets.save_budget(session=session, actor=user, workspace_id=user.workspace_id, form=form)
        except AppError as exc:
            self.budget_error = exc.message
            return
        self.budget_error = ""
        self._load(user)
        return rx.toast.success("Budget saved.")
