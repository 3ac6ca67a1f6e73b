"""What the event handlers share: the two ways an event cannot apply, a planned effect, the workspace and pack
an event names, and applying planned effects through effects.apply_effect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from app.models import CreditPack
from app.services.billing import effects, sql

PAYMENT_KINDS = ("pack", "plan_credits", "topup")
TAKE_BACK_KINDS = ("refund", "dispute")


class RetryLater(Exception):  # answered 503, so Stripe delivers it again
    """The event refers to a payment not applied yet (a refund delivered before its payment)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unapplicable(Exception):  # the event is kept as failed, with a BillingIssue
    def __init__(self, kind: str, detail: str, business_key: str = "") -> None:
        super().__init__(detail)
        self.kind, self.detail, self.business_key = kind, detail, business_key


@dataclass(frozen=True)
class Planned:
    business_key: str
    kind: str
    workspace_id: int
    credits: int
    amount_cents: int
    currency: str
    stripe_object_id: str


def to_int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def named_workspace(metadata: dict[str, Any], reference: Any = None) -> int | None:
    """The workspace id checkout put on the object (metadata first, else client_reference_id), unchecked."""
    return to_int((metadata or {}).get("workspace_id")) or to_int(reference)


def workspace_of(session: Session, metadata: dict[str, Any], reference: Any = None, key: str = "") -> int:
    """The workspace an event names, which must exist; raises Unapplicable."""
    workspace_id = named_workspace(metadata, reference)
    if workspace_id is None or effects.workspace_facts(session, workspace_id) is None:
        raise Unapplicable("unknown_workspace", f"no workspace {workspace_id if workspace_id else '(none named)'}",
                           key)
    return workspace_id


@dataclass(frozen=True)
class PackTerms:
    credits: int
    currency: str


_PACK = select(CreditPack.credits, CreditPack.currency).where(CreditPack.id == bindparam("id"))


def pack_of(session: Session, metadata: dict[str, Any], key: str) -> PackTerms:
    row = sql.connection(session).execute(_PACK, {"id": to_int((metadata or {}).get("pack_id")) or 0}).first()
    if row is None:
        raise Unapplicable("unknown_pack", f"no credit pack {(metadata or {}).get('pack_id')!r}", key)
    return PackTerms(row[0], row[1])


def apply_planned(session: Session, event: dict[str, Any], planned: list[Planned]) -> tuple[str, str]:
    done = []
    for p in planned:
        applied = effects.apply_effect(session=session, business_key=p.business_key, kind=p.kind,
                                       workspace_id=p.workspace_id, credits=p.credits, event_id=event["id"],
                                       amount_cents=p.amount_cents, currency=p.currency,
                                       stripe_object_id=p.stripe_object_id)
        done.append(f"{p.business_key} {p.credits:+d}" if applied else f"{p.business_key} already applied")
    return "applied", "; ".join(done) or "nothing to apply"
