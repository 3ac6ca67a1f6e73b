"""Stripe webhooks: verify the raw body, store each event once by its id, apply what it means.

Verification is the library's signature check plus our own timestamp check in both directions (the
library only refuses old timestamps: a signed payload dated an hour ahead would pass it). A verified
event is stored in StripeEvent by id (a second delivery changes nothing) and handed to its handler in
the same transaction as its effects, so an event is either fully applied or not recorded at all.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.db import session_scope, write_turn
from app.errors import AppError
from app.models import BillingIssue, StripeEvent, utcnow
from app.services.billing import client, effects, sql
from app.services.billing.handlers import HANDLERS, RetryLater, Unapplicable
from app.settings import get_settings

log = logging.getLogger(__name__)


class WebhookRefused(AppError):
    status = 400
    code = "bad_signature"


def _header_timestamp(header: str) -> int:
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise WebhookRefused("The Stripe-Signature header has no valid timestamp.", code="bad_signature")


def verify(*, payload: bytes, header: str | None, now: float | None = None) -> dict[str, Any]:
    """The event in a webhook body, once its signature and timestamp hold; raises WebhookRefused."""
    if not header:
        raise WebhookRefused("The Stripe-Signature header is missing.", code="missing_signature")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRefused("The body is not UTF-8 text.", code="bad_payload") from None
    tolerance = get_settings().stripe_webhook_tolerance
    # Ours first: it is cheap and two-sided, and tells a clock problem apart from a forged signature.
    signed_at = _header_timestamp(header)
    if abs((time.time() if now is None else now) - signed_at) > tolerance:
        raise WebhookRefused(f"The signature's timestamp is more than {tolerance} seconds away from now "
                             "(a replay, or a clock that is off).", code="timestamp_out_of_range")
    try:
        stripe.WebhookSignature.verify_header(text, header, client.webhook_secret(), tolerance)
    except stripe.SignatureVerificationError as exc:
        code = "timestamp_out_of_range" if "tolerance" in str(exc).lower() else "bad_signature"
        raise WebhookRefused(f"The webhook signature does not verify: {exc.user_message or exc}", code=code) from None
    try:
        event = json.loads(text)
    except ValueError:
        raise WebhookRefused("The body is not JSON.", code="bad_payload") from None
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"]
            and isinstance(event.get("type"), str) and isinstance(event.get("created"), int)
            and isinstance(event.get("data"), dict) and isinstance(event["data"].get("object"), dict)):
        raise WebhookRefused("The body is not a Stripe event (id, type, created, data.object).", code="bad_payload")
    return event


class DuplicateDelivery(Exception):
    """Another delivery of the same event committed while this one ran (PostgreSQL; SQLite serialises writers):
    this transaction must be rolled back and the delivery answered as a duplicate."""


_SEEN = select(StripeEvent.id).where(col(StripeEvent.id) == bindparam("id"))


def process_event(*, session: Session, event: dict[str, Any]) -> str:
    """Apply one verified event within the caller's transaction; its outcome: applied | ignored | failed |
    duplicate. Raises RetryLater (nothing stored) when it refers to a payment not seen yet, and
    DuplicateDelivery (roll back) when a concurrent delivery of the same event won the race."""
    conn = sql.connection(session)
    event_id = event["id"][:100]
    if conn.execute(_SEEN, {"id": event_id}).first() is not None:
        return "duplicate"
    handler = HANDLERS.get(event["type"])
    if handler is None:
        outcome, detail = "ignored", "not an event Atelier acts on"
        log.info("stripe event %s (%s) acknowledged and ignored", event["id"], event["type"])
    else:
        try:
            outcome, detail = handler(session, event)
        except Unapplicable as exc:
            # Stripe must not retry forever: the event is answered, kept as failed and shown to the admins.
            outcome, detail = "failed", exc.detail
            session.add(BillingIssue(kind=exc.kind, business_key=exc.business_key[:160],
                                     detail=f"{event['type']} {event['id']}: {exc.detail}"[:500]))
            log.warning("stripe event %s (%s) not applied: %s", event["id"], event["type"], exc.detail)
    # The event row is written last, with what it did: its id is the exactly-once guard for the whole event
    # (checked above; a concurrent delivery that got here first makes this insert write nothing).
    stored = sql.insert_new(sql.connection(session), StripeEvent.__table__, {
        "id": event_id, "type": event["type"][:80], "created_at": datetime.fromtimestamp(event["created"], UTC),
        "received_at": utcnow(), "outcome": outcome, "detail": detail[:300]})
    if stored is None:
        raise DuplicateDelivery(event_id)
    return outcome


def receive(*, payload: bytes, header: str | None) -> dict[str, str]:
    """The webhook route's work: verify, apply in one transaction, then queue the receipts it wrote."""
    event = verify(payload=payload, header=header)
    try:
        with write_turn(), session_scope() as session:
            outcome = process_event(session=session, event=event)
            receipts = effects.take_receipts(session)
    except RetryLater as exc:
        log.info("stripe event %s (%s) answered 503 for a retry: %s", event["id"], event["type"], exc.detail)
        raise AppError(f"Not applied yet: {exc.detail}; Stripe will deliver it again.", code="retry_later",
                       status=503) from None
    except DuplicateDelivery:
        return {"id": event["id"], "type": event["type"], "outcome": "duplicate"}
    effects.queue_receipts(receipts)
    return {"id": event["id"], "type": event["type"], "outcome": outcome}
