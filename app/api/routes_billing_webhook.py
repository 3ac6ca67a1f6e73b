"""POST /api/v1/billing/webhook: Stripe's events. Public — its credential is the signature on the raw body
(app/services/billing/webhooks.py) — and 404 while billing is off."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.errors import NotFound
from app.services.billing import client, webhooks

router = APIRouter(tags=["billing"])


@router.post("/billing/webhook", include_in_schema=False)
async def stripe_webhook(request: Request) -> dict:
    if not client.enabled():
        raise NotFound("Billing is off on this server.", code="billing_off")
    # The raw bytes: the signature covers them exactly, a re-serialised body would not verify.
    payload = await request.body()
    return await run_in_threadpool(webhooks.receive, payload=payload,
                                   header=request.headers.get("stripe-signature"))
