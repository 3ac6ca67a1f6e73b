"""Plans and credit packs as data.

A plan's terms live in versions: editing a plan adds a version and never changes one, so a running
subscription keeps the terms it was sold on; new subscriptions (and renewals, through A's webhook) take the
latest. Every workspace without a live subscription is on the free plan's latest version.

RENAME_MONTHLY_IMAGES seeds the free plan's quota once (`python -m app.services.billing.plans`, run by
`make run`); until then the setting is the free quota, as it was before plans existed, and once seeded
(or once an admin edits the free plan on /admin/billing) the plan rules.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.db import session_scope
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import BillingState, CreditPack, Plan, PlanVersion, Subscription, utcnow
from app.settings import get_settings

# Subscription statuses that keep a workspace on its paid plan (past_due: Stripe is still retrying).
LIVE_STATUSES = ("active", "trialing", "past_due")
FREE_SEEDED = "free_plan_seeded"
PRICE_ID = re.compile(r"^price_[A-Za-z0-9_]{1,90}$")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_CREDITS = 1_000_000


@dataclass(frozen=True)
class Terms:
    """What an admin sets on a plan version (validated by `clean_terms`)."""

    stripe_price_id: str = ""
    amount_cents: int = 0
    currency: str = "usd"
    monthly_credits: int = 0
    monthly_rename_quota: int = 0
    member_limit: int | None = None
    storage_limit_mb: int | None = None


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 80:
        raise ValidationFailed("Give a name of 1 to 80 characters.", code="invalid_name")
    return name


def _currency(currency: str) -> str:
    currency = (currency or "").strip().lower()
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise ValidationFailed("The currency is a three-letter ISO code such as 'usd' or 'eur'.",
                               code="invalid_currency")
    return currency


def _price_id(price_id: str, *, required: bool) -> str:
    price_id = (price_id or "").strip()
    if not price_id and not required:
        return ""
    if not PRICE_ID.fullmatch(price_id):
        raise ValidationFailed("The Stripe price id looks like 'price_…' (letters, digits and _).",
                               code="invalid_price_id")
    return price_id


def _count(value, label: str, *, low: int, high: int, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"{label} must be a whole number from {low:,} to {high:,}.",
                               code="invalid_" + label.lower().replace(" ", "_"))
    return value


def clean_terms(terms: Terms, *, free: bool) -> Terms:
    """Every field checked; a paid plan needs a Stripe price, the free plan has none."""
    if free and terms.stripe_price_id:
        raise ValidationFailed("The free plan has no Stripe price.", code="invalid_price_id")
    return Terms(
        stripe_price_id="" if free else _price_id(terms.stripe_price_id, required=True),
        amount_cents=_count(terms.amount_cents, "Amount cents", low=0, high=10_000_000),
        currency=_currency(terms.currency),
        monthly_credits=_count(terms.monthly_credits, "Monthly credits", low=0, high=MAX_CREDITS),
        monthly_rename_quota=_count(terms.monthly_rename_quota, "Monthly rename quota", low=0, high=10_000_000),
        member_limit=_count(terms.member_limit, "Member limit", low=1, high=100_000, optional=True),
        storage_limit_mb=_count(terms.storage_limit_mb, "Storage limit mb", low=1, high=100_000_000, optional=True),
    )


# --- plans ------------------------------------------------------------------------------------------------


def latest_version(*, session: Session, plan_id: int) -> PlanVersion:
    row = session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                       .order_by(col(PlanVersion.version).desc())).first()
    if row is None:
        raise NotFound("That plan has no terms yet.", code="plan_not_found")
    return row


def free_plan(*, session: Session) -> Plan:
    plan = session.exec(select(Plan).where(Plan.is_free == True)).first()  # noqa: E712
    if plan is None:
        raise NotFound("There is no free plan (migration 0011 seeds it).", code="plan_not_found")
    return plan


def list_plans(*, session: Session, active_only: bool = False) -> list[tuple[Plan, PlanVersion]]:
    query = select(Plan).order_by(col(Plan.sort), col(Plan.id))
    if active_only:
        query = query.where(Plan.active == True)  # noqa: E712
    return [(plan, latest_version(session=session, plan_id=plan.id)) for plan in session.exec(query).all()]


def versions(*, session: Session, plan_id: int) -> list[PlanVersion]:
    return list(session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                             .order_by(col(PlanVersion.version).desc())).all())


def get_plan(*, session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("No such plan.", code="plan_not_found")
    return plan


def _add_version(session: Session, plan: Plan, terms: Terms, actor_id: int | None) -> PlanVersion:
    number = session.exec(select(func.max(PlanVersion.version)).where(PlanVersion.plan_id == plan.id)).one() or 0
    row = PlanVersion(plan_id=plan.id, version=number + 1, created_by=actor_id, **terms.__dict__)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise Conflict("Someone saved this plan at the same moment; reload and try again.",
                       code="plan_version_race") from exc
    if plan.is_free:
        _mark_free_seeded(session)
    return row


def create_plan(*, session: Session, actor_id: int | None, key: str, name: str, terms: Terms,
                sort: int = 0) -> tuple[Plan, PlanVersion]:
    key = (key or "").strip().lower()
    if not KEY.fullmatch(key):
        raise ValidationFailed("The key is 1-40 lower-case letters, digits or '-'.", code="invalid_key")
    if session.exec(select(Plan.id).where(Plan.key == key)).first() is not None:
        raise Conflict(f"A plan with key {key!r} exists; add a version to it instead.", code="plan_exists")
    terms = clean_terms(terms, free=False)
    plan = Plan(key=key, name=_name(name), sort=_count(sort, "Sort", low=0, high=10_000))
    session.add(plan)
    session.flush()
    return plan, _add_version(session, plan, terms, actor_id)


def edit_plan(*, session: Session, actor_id: int | None, plan_id: int, terms: Terms, name: str | None = None,
              active: bool | None = None) -> tuple[Plan, PlanVersion]:
    """A new version with `terms` (running subscriptions keep theirs until renewal); name and active are the
    plan's own (not terms), changed in place."""
    plan = get_plan(session=session, plan_id=plan_id)
    if name is not None:
        plan.name = _name(name)
    if active is not None:
        if plan.is_free and not active:
            raise Conflict("The free plan is where every workspace without a subscription is; it stays active.",
                           code="free_plan_active")
        plan.active = active
    session.add(plan)
    return plan, _add_version(session, plan, clean_terms(terms, free=plan.is_free), actor_id)


def live_subscription(*, session: Session, workspace_id: int) -> Subscription | None:
    return session.exec(select(Subscription).where(Subscription.workspace_id == workspace_id,
                                                   col(Subscription.status).in_(LIVE_STATUSES))
                        .order_by(col(Subscription.id).desc())).first()


def current_plan(*, session: Session, workspace_id: int) -> tuple[Plan, PlanVersion]:
    """The version a live subscription was sold (or last renewed) on, else the free plan's latest."""
    sub = live_subscription(session=session, workspace_id=workspace_id)
    if sub is not None:
        return session.get(Plan, sub.plan_id), session.get(PlanVersion, sub.plan_version_id)
    plan = free_plan(session=session)
    return plan, latest_version(session=session, plan_id=plan.id)


def _free_seeded(session: Session) -> bool:
    return session.get(BillingState, FREE_SEEDED) is not None


def _mark_free_seeded(session: Session) -> None:
    if not _free_seeded(session):
        try:
            with session.begin_nested():
                session.add(BillingState(key=FREE_SEEDED, value="1"))
        except IntegrityError:
            pass  # seeded by a concurrent start


def rename_quota(*, session: Session, workspace_id: int) -> int:
    """Images the workspace may rename per month under its plan."""
    plan, version = current_plan(session=session, workspace_id=workspace_id)
    if plan.is_free and not _free_seeded(session):
        return get_settings().rename_monthly_images
    return version.monthly_rename_quota


def seed_free_plan() -> bool:
    """Once: the free plan's quota from RENAME_MONTHLY_IMAGES (a new version when it differs)."""
    with session_scope() as session:
        if _free_seeded(session):
            return False
        plan = free_plan(session=session)
        latest = latest_version(session=session, plan_id=plan.id)
        quota = get_settings().rename_monthly_images
        if latest.monthly_rename_quota != quota:
            terms = {k: getattr(latest, k) for k in Terms.__dataclass_fields__}
            _add_version(session, plan, Terms(**{**terms, "monthly_rename_quota": quota}), None)
        _mark_free_seeded(session)
        return True


# --- packs ------------------------------------------------------------------------------------------------


def list_packs(*, session: Session, active_only: bool = False) -> list[CreditPack]:
    query = select(CreditPack).order_by(col(CreditPack.credits), col(CreditPack.id))
    if active_only:
        query = query.where(CreditPack.active == True)  # noqa: E712
    return list(session.exec(query).all())


def get_pack(*, session: Session, pack_id: int) -> CreditPack:
    pack = session.get(CreditPack, pack_id)
    if pack is None:
        raise NotFound("No such credit pack.", code="pack_not_found")
    return pack


def _pack_values(name: str, credits: int, stripe_price_id: str, amount_cents: int, currency: str) -> dict:
    return {"name": _name(name), "credits": _count(credits, "Credits", low=1, high=MAX_CREDITS),
            "stripe_price_id": _price_id(stripe_price_id, required=True),
            "amount_cents": _count(amount_cents, "Amount cents", low=0, high=10_000_000),
            "currency": _currency(currency)}


def _price_taken(session: Session, price_id: str, pack_id: int | None) -> None:
    other = session.exec(select(CreditPack.id).where(CreditPack.stripe_price_id == price_id)).first()
    if other is not None and other != pack_id:
        raise Conflict("Another pack sells that Stripe price.", code="pack_price_taken")


def create_pack(*, session: Session, name: str, credits: int, stripe_price_id: str, amount_cents: int = 0,
                currency: str = "usd") -> CreditPack:
    values = _pack_values(name, credits, stripe_price_id, amount_cents, currency)
    _price_taken(session, values["stripe_price_id"], None)
    pack = CreditPack(**values)
    session.add(pack)
    session.flush()
    return pack


def edit_pack(*, session: Session, pack_id: int, name: str, credits: int, stripe_price_id: str,
              amount_cents: int, currency: str, active: bool) -> CreditPack:
    """Packs are sold once and credited by the pack id in the session's metadata, so an edit reaches only
    checkouts started after it (a paid checkout is credited by what it said at the time — A's webhook)."""
    pack = get_pack(session=session, pack_id=pack_id)
    values = _pack_values(name, credits, stripe_price_id, amount_cents, currency)
    _price_taken(session, values["stripe_price_id"], pack.id)
    for key, value in values.items():
        setattr(pack, key, value)
    pack.active = bool(active)
    session.add(pack)
    session.flush()
    return pack


def renew(*, session: Session, subscription: Subscription) -> PlanVersion:
    """At renewal a subscription moves to its plan's latest version (the webhook of invoice.paid calls this
    before granting the month's credits): an edit reaches running subscriptions then, never before."""
    version = latest_version(session=session, plan_id=subscription.plan_id)
    if subscription.plan_version_id != version.id:
        subscription.plan_version_id, subscription.updated_at = version.id, utcnow()
        session.add(subscription)
    return version


def check_member_limit(*, session: Session, workspace_id: int, adding: int = 1) -> None:
    """Refuse a new member (an invitation or its acceptance) past the plan's member limit."""
    from app.models import Membership
    from app.services.workspaces import permissions

    _, version = current_plan(session=session, workspace_id=workspace_id)
    if version.member_limit is None:
        return
    count = session.exec(select(func.count()).select_from(Membership).where(
        Membership.workspace_id == workspace_id, col(Membership.role).in_(permissions.ROLES))).one()
    if count + adding > version.member_limit:
        raise Conflict(f"This workspace's plan allows {version.member_limit} members and it has {count}; "
                       "an owner can move to a larger plan on the Billing page.", code="plan_member_limit")


def check_storage_limit(*, session: Session, workspace_id: int, adding_bytes: int) -> None:
    """Refuse an upload that would take the workspace's stored originals past its plan's storage limit."""
    from app.models import Asset

    _, version = current_plan(session=session, workspace_id=workspace_id)
    if version.storage_limit_mb is None:
        return
    used = session.exec(select(func.coalesce(func.sum(Asset.size_bytes), 0)).where(
        Asset.workspace_id == workspace_id, col(Asset.deleted_at).is_(None))).one()
    limit = version.storage_limit_mb * 1024 * 1024
    if used + adding_bytes > limit:
        raise Conflict(f"This file would take the workspace past its plan's {version.storage_limit_mb:,} MB of "
                       f"storage ({used / 1048576:,.1f} MB used).", code="plan_storage_limit")


if __name__ == "__main__":
    seeded = seed_free_plan()
    sys.stderr.write(f"free plan quota {'seeded from RENAME_MONTHLY_IMAGES' if seeded else 'already seeded'}\n")
