"""Stripe's wire format for the fake Stripe (tests/fake_stripe.py): bracket-syntax form bodies, ids, errors,
list envelopes, events and the webhook signature scheme — written from Stripe's API reference, not from
the `stripe` library, so the library is tested against them rather than against itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from tests.fake_providers import Reply, json_reply

API_VERSION = "2026-10-28.endive"
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def new_id(prefix: str) -> str:
    return f"{prefix}_{'test_' if prefix == 'cs' else ''}{secrets.token_hex(12)}"


def parse_form(raw: bytes | str) -> dict[str, Any]:
    """`a[b][0][c]=1&expand[0]=x` → {"a": {"b": [{"c": "1"}]}, "expand": ["x"]} (Stripe's encoding)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        if not match:
            raise ValueError(f"Invalid parameter name: {key}")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"Invalid array or hash for {key}")
        node[path[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def query_params(query: dict[str, list[str]]) -> dict[str, Any]:
    """A GET's query string in the same bracket syntax (`created[gt]=…`)."""
    return parse_form("&".join(f"{k}={v}" for k, values in query.items() for v in values))


def error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
          param: str | None = None) -> Reply:
    body = {"error": {"type": kind, "message": message, "code": code, "param": param,
                      "request_log_url": None, "doc_url": None}}
    return json_reply(status, body, {"Request-Id": new_id("req")})


def missing(kind: str, ident: str, param: str = "id") -> Reply:
    return error(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def list_of(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def event(kind: str, obj: dict[str, Any], created: int, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}  # a snapshot, as Stripe sends
    if previous:
        data["previous_attributes"] = previous
    return {"id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": created,
            "data": data, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": kind}


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header: `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def price_object(price_id: str, amount: int, currency: str, interval: str | None) -> dict[str, Any]:
    return {"id": price_id, "object": "price", "active": True, "currency": currency, "unit_amount": amount,
            "type": "recurring" if interval else "one_time", "livemode": False,
            "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"} if interval else None}


def charge_object(*, pi: dict[str, Any], created: int) -> dict[str, Any]:
    return {"id": new_id("ch"), "object": "charge", "amount": pi["amount"], "amount_captured": pi["amount"],
            "amount_refunded": 0, "captured": True, "created": created, "currency": pi["currency"],
            "customer": pi["customer"], "disputed": False, "livemode": False, "metadata": dict(pi["metadata"]),
            "paid": True, "payment_intent": pi["id"], "refunded": False, "status": "succeeded"}


def payment_intent_object(*, amount: int, currency: str, customer: str | None, metadata: dict[str, Any],
                          created: int, status: str = "succeeded") -> dict[str, Any]:
    return {"id": new_id("pi"), "object": "payment_intent", "amount": amount, "amount_received": amount
            if status == "succeeded" else 0, "currency": currency, "customer": customer, "created": created,
            "latest_charge": None, "livemode": False, "metadata": metadata, "status": status,
            "payment_method": new_id("pm")}
