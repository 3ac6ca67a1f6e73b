"""/admin/billing: the plans editor (each save is a new version), credit packs, payments, refunds, disputes,
reconciliation issues and each workspace's plan. Plans are editable with billing off (they carry the rename
quota and the member and storage limits); the rest shows only when Stripe is configured."""

from __future__ import annotations

import reflex as rx

from app.db import read_scope, session_scope
from app.display import money
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.billing import client, overview, plans
from state.session import admin_only


def _opt(raw) -> int | None:
    raw = str(raw or "").strip().replace(",", "")
    if not raw:
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise AppError(f"{raw[:20]!r} is not a whole number.", code="invalid_number")
    return int(raw)


def _num(raw) -> int:
    value = _opt(raw)
    return 0 if value is None else value


def _terms(form: dict) -> plans.Terms:
    return plans.Terms(stripe_price_id=str(form.get("stripe_price_id", ""))[:100],
                       amount_cents=_num(form.get("amount_cents")), currency=str(form.get("currency", "usd"))[:3],
                       monthly_credits=_num(form.get("monthly_credits")),
                       monthly_rename_quota=_num(form.get("monthly_rename_quota")),
                       member_limit=_opt(form.get("member_limit")), storage_limit_mb=_opt(form.get("storage_limit_mb")))


def _version_row(v: dict) -> dict[str, str]:
    return {"version": f"v{v['version']}", "price": v["stripe_price_id"] or "—",
            "amount": money(v["amount_cents"], v["currency"]), "credits": f"{v['monthly_credits']:,}",
            "quota": f"{v['monthly_rename_quota']:,}",
            "members": "—" if v["member_limit"] is None else str(v["member_limit"]),
            "storage": "—" if v["storage_limit_mb"] is None else f"{v['storage_limit_mb']:,} MB",
            "created": v["created_at"].strftime("%Y-%m-%d %H:%M")}


def _effect_row(e: dict) -> dict[str, str]:
    return {"when": e["created_at"].strftime("%Y-%m-%d %H:%M"), "workspace": str(e["workspace_id"]),
            "kind": e["kind"], "credits": f"{e['applied_credits']:+,}", "shortfall": str(e["shortfall"]),
            "amount": money(e["amount_cents"], e["currency"]), "object": e["stripe_object_id"]}


class AdminBillingState(rx.State):
    enabled: bool = False
    # One row per plan: id, key, name, free, active, and the latest terms as text (form defaults).
    plans: list[dict[str, str]] = []
    # Plan id → its versions, newest first (see _version_row).
    history: dict[str, list[dict[str, str]]] = {}
    # The plan whose editor is open ("" none, "new" the create form).
    editing: str = ""
    form_error: str = ""
    # Packs: id, name, credits, price_id, amount_cents, currency, active, price.
    packs: list[dict[str, str]] = []
    pack_error: str = ""
    payments: list[dict[str, str]] = []
    refunds: list[dict[str, str]] = []
    disputes: list[dict[str, str]] = []
    # Reconciliation issues: kind, key, detail, found, resolved.
    issues: list[dict[str, str]] = []
    # Each workspace's plan: workspace, plan, version, status.
    workspace_plans: list[dict[str, str]] = []

    @rx.event
    @admin_only
    async def load_page(self, admin: UserPublic):
        self.enabled, self.editing, self.form_error, self.pack_error = client.enabled(), "", "", ""
        self._load()

    def _load(self) -> None:
        with read_scope() as session:
            history = overview.plan_history(session=session)
            data = overview.admin_billing(session=session) if self.enabled else None
            packs = [overview.pack_dict(p) for p in plans.list_packs(session=session)] if self.enabled else []
        self.plans = [{"id": str(p["plan_id"]), "key": p["key"], "name": p["name"], "free": "yes" if p["is_free"]
                       else "", "active": "yes" if p["active"] else "", "version": f"v{p['version']}",
                       "stripe_price_id": p["stripe_price_id"], "amount_cents": str(p["amount_cents"]),
                       "currency": p["currency"], "monthly_credits": str(p["monthly_credits"]),
                       "monthly_rename_quota": str(p["monthly_rename_quota"]),
                       "member_limit": "" if p["member_limit"] is None else str(p["member_limit"]),
                       "storage_limit_mb": "" if p["storage_limit_mb"] is None else str(p["storage_limit_mb"])}
                      for p in history]
        self.history = {str(p["plan_id"]): [_version_row(v) for v in p["versions"]] for p in history}
        self.packs = [{"id": str(p["id"]), "name": p["name"], "credits": str(p["credits"]),
                       "price_id": p["stripe_price_id"], "amount_cents": str(p["amount_cents"]),
                       "currency": p["currency"], "active": "yes" if p["active"] else "",
                       "price": money(p["amount_cents"], p["currency"])} for p in packs]
        if data is not None:
            self.payments = [_effect_row(e) for e in data["payments"]]
            self.refunds = [_effect_row(e) for e in data["refunds"]]
            self.disputes = [_effect_row(e) for e in data["disputes"]]
            self.issues = [{"kind": i["kind"], "key": i["business_key"], "detail": i["detail"],
                            "found": i["found_at"].strftime("%Y-%m-%d %H:%M"),
                            "resolved": i["resolved_at"].strftime("%Y-%m-%d %H:%M") if i["resolved_at"] else ""}
                           for i in data["issues"]]
            self.workspace_plans = [{"workspace": w["workspace"], "plan": w["plan"], "version": f"v{w['version']}",
                                     "status": w["status"]} for w in data["workspaces"]]

    @rx.event
    def set_editing(self, plan_id: str):
        self.editing = plan_id if plan_id == "new" or parse_id(plan_id) else ""
        self.form_error = ""

    @rx.event
    @admin_only
    async def save_plan(self, user: UserPublic, form: dict):
        """A new plan, or a new version of the one being edited (never an edit in place)."""
        try:
            with session_scope() as session:
                if self.editing == "new":
                    plans.create_plan(session=session, actor_id=user.id, key=str(form.get("key", ""))[:40],
                                      name=str(form.get("name", ""))[:80], terms=_terms(form))
                else:
                    plans.edit_plan(session=session, actor_id=user.id, plan_id=parse_id(self.editing),
                                    terms=_terms(form), name=str(form.get("name", ""))[:80] or None,
                                    active=form.get("active") in ("on", True, "true"))
        except AppError as exc:
            self.form_error = exc.message
            return
        self.editing, self.form_error = "", ""
        self._load()
        return rx.toast.success("Plan saved as a new version.")

    @rx.event
    @admin_only
    async def save_pack(self, admin: UserPublic, form: dict):
        """Create a pack (no id in the form) or edit one; unticking Active takes it off sale."""
        if not self.enabled:
            return rx.toast.error("Billing is off: packs are sold only through Stripe.")
        try:
            values = {"name": str(form.get("name", ""))[:80], "credits": _num(form.get("credits")),
                      "stripe_price_id": str(form.get("stripe_price_id", ""))[:100],
                      "amount_cents": _num(form.get("amount_cents")), "currency": str(form.get("currency", "usd"))[:3]}
            pack_id = parse_id(str(form.get("pack_id", "") or ""))
            with session_scope() as session:
                if pack_id:
                    plans.edit_pack(session=session, pack_id=pack_id, active=form.get("active") in ("on", True),
                                    **values)
                else:
                    plans.create_pack(session=session, **values)
        except AppError as exc:
            self.pack_error = exc.message
            return
        self.pack_error = ""
        self._load()
        return rx.toast.success("Pack saved.")
