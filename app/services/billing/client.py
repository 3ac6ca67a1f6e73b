"""The Stripe client, built once per process from settings (the real `stripe` library).

Billing is on only when STRIPE_SECRET_KEY is set. The client is cached per process and per settings
(a forked RQ work horse starts without the parent's: its HTTP pool does not survive a fork).
"""

from __future__ import annotations

import hashlib

import httpx
import stripe

from app.process_cache import ForkSafeCache
from app.settings import get_settings

# Stripe answers most calls in well under a second; a Checkout Session can take a few.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MAX_NETWORK_RETRIES = 2

_clients = ForkSafeCache()


def enabled() -> bool:
    """True when Stripe is configured (STRIPE_SECRET_KEY); off, nothing about payments shows."""
    return get_settings().billing_enabled


def api_base() -> str:
    """The API root the client talks to: STRIPE_API_BASE, else Stripe's."""
    return (get_settings().stripe_api_base or "").rstrip("/") or stripe.DEFAULT_API_BASE


def webhook_secret() -> str:
    secret = get_settings().stripe_webhook_secret
    return secret.get_secret_value() if secret is not None else ""


def stripe_client() -> stripe.StripeClient:
    """The process's StripeClient for the current settings; raises RuntimeError when billing is off."""
    settings = get_settings()
    if settings.stripe_secret_key is None:
        raise RuntimeError("Billing is off: STRIPE_SECRET_KEY is not set")
    key = settings.stripe_secret_key.get_secret_value()
    base = api_base()
    # The cache key holds a digest, never the key itself (caches end up in debug dumps).
    cache_key = hashlib.sha256(f"{key}\0{base}".encode()).hexdigest()
    with _clients.lock:
        client = _clients.get(cache_key)
        if client is None:
            http = stripe.HTTPXClient(timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                                      allow_sync_methods=True)
            client = stripe.StripeClient(key, base_addresses={"api": base}, http_client=http,
                                         max_network_retries=MAX_NETWORK_RETRIES)
            _clients[cache_key] = client
        return client
