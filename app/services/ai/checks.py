"""Testing a connection on the spot, and what health pages say about each one (never a secret)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from app.db import read_scope, session_scope
from app.models import AIConnection
from app.providers import keybox
from app.providers.presets import probe_arguments
from app.services import audit
from app.services.ai.connections import get_connection, view

TEST_TIMEOUT_SECONDS = 10.0


def check_connection(*, actor_id: int | None, connection_id: int,
                     timeout: float = TEST_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Call the provider's cheapest endpoint; store and return what it offers, or a specific error."""
    from app.providers.probe import ProbeFailed, probe

    with read_scope() as session:
        row = get_connection(session=session, connection_id=connection_id)
        preset, base_url, sealed = row.preset, row.base_url, row.secret
        options = dict(row.options or {})
    error = ""
    offers: list[dict[str, Any]] = []
    latency: int | None = None
    detail: dict[str, Any] = {}
    try:
        key, arguments = probe_arguments(preset, keybox.open_key(sealed), options)
        result = probe(preset=preset, base_url=base_url, api_key=key, options=arguments, timeout=timeout)
        offers = [asdict(offer) for offer in result.offers]
        latency, detail = result.latency_ms, result.detail
    except ProbeFailed as exc:
        error, code = exc.message, exc.code
    except keybox.KeyUnreadable as exc:
        error, code = str(exc), "key_unreadable"
    else:
        code = "ok"
    with session_scope() as session:
        row = session.get(AIConnection, connection_id)
        if row is not None:
            row.tested_at = datetime.now(UTC)
            row.test_error = error[:500]
            row.latency_ms = latency
            if not error:
                row.offers = offers
            session.add(row)
            audit.record(session=session, action="ai.connection.test", actor_id=actor_id, target=f"ai:{connection_id}",
                         detail=f"“{row.name}”: " + (f"failed ({code})" if error else f"ok, {len(offers)} offers"))
        answer = view(row) if row is not None else {}
    from app.services.ai import health

    health.forget(connection_id)  # health pages show this fresh result, not one remembered from before
    return {"ok": not error, "code": code, "error": error, "latency_ms": latency, "offers": offers,
            "detail": detail, "connection": answer}
