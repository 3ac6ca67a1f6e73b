"""What health pages say about each AI connection: reachable or not (a short probe, remembered for a
while in Redis so every process and every health call shares it), this process's breaker, the last
test — never a secret. Connections do not decide readiness: an AI server down is not the app down.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlmodel import select

from app.db import read_scope
from app.models import AIConnection
from app.providers import keybox, registry
from app.providers.http import breaker_state
from app.providers.presets import PRESETS, probe_arguments
from app.redis_client import get_redis
from app.settings import get_settings

PROBE_SECONDS = 3.0
REMEMBER_SECONDS = 20  # a probe result is reused this long (health may be polled every few seconds)
# Probes that cost money (Google Vision's test annotates an image): health reports the last test instead.
BILLED_PROBES = ("google_vision",)


def _key(row: AIConnection) -> str:
    return f"atelier:ai-health:{row.id}:{row.version}"


def _probe(row: dict[str, Any]) -> dict[str, Any]:
    from app.providers.probe import ProbeFailed, probe

    started = time.monotonic()
    try:
        key, arguments = probe_arguments(row["preset"], keybox.open_key(row["secret"]), row["options"])
        result = probe(preset=row["preset"], base_url=row["base_url"], api_key=key, options=arguments,
                       timeout=PROBE_SECONDS)
    except ProbeFailed as exc:
        return {"state": "down", "error": exc.message[:300], "code": exc.code,
                "latency_ms": int((time.monotonic() - started) * 1000)}
    except keybox.KeyUnreadable as exc:
        return {"state": "down", "error": str(exc), "code": "key_unreadable", "latency_ms": None}
    return {"state": "ok", "error": "", "code": "ok", "latency_ms": result.latency_ms}


def connection_health(*, probe: bool = True) -> list[dict[str, Any]]:
    """One entry per connection: name, preset, enabled, state (ok | down | disabled | untested), the
    error, latency, breaker, last test. `probe` False only reads what is remembered."""
    with read_scope() as session:
        rows = list(session.exec(select(AIConnection).order_by(AIConnection.name)))
        plain = [{"id": r.id, "name": r.name, "preset": r.preset, "base_url": r.base_url, "secret": r.secret,
                  "options": dict(r.options or {}), "enabled": r.enabled, "key": _key(r),
                  "tested_at": r.tested_at.isoformat() if r.tested_at else None, "test_error": r.test_error,
                  "test_latency": r.latency_ms} for r in rows]
    redis = get_redis()
    remembered = dict(zip([p["key"] for p in plain], redis.mget([p["key"] for p in plain]), strict=True)) \
        if plain else {}
    to_probe = [p for p in plain if p["enabled"] and not remembered.get(p["key"])
                and p["preset"] not in BILLED_PROBES and probe]
    if to_probe:
        with ThreadPoolExecutor(max_workers=min(8, len(to_probe))) as pool:
            for p, found in zip(to_probe, pool.map(_probe, to_probe), strict=True):
                redis.set(p["key"], json.dumps(found), ex=REMEMBER_SECONDS)
                remembered[p["key"]] = json.dumps(found)
    report = []
    for p in plain:
        if not p["enabled"]:
            live = {"state": "disabled", "error": "", "code": "disabled", "latency_ms": None}
        elif remembered.get(p["key"]):
            live = json.loads(remembered[p["key"]])
        elif p["tested_at"]:  # not probed (billed, or probe=False): the last test says
            live = {"state": "down" if p["test_error"] else "ok", "error": p["test_error"],
                    "code": "last_test", "latency_ms": p["test_latency"]}
        else:
            live = {"state": "untested", "error": "", "code": "untested", "latency_ms": None}
        report.append({"id": p["id"], "name": p["name"], "preset": p["preset"],
                       "preset_label": PRESETS[p["preset"]].label if p["preset"] in PRESETS else p["preset"],
                       "enabled": p["enabled"], **live, "breaker": breaker_state(p["name"]),
                       "tested_at": p["tested_at"], "test_error": p["test_error"]})
    return report


def forget(connection_id: int | None = None) -> None:
    """Drop remembered probe results (after a test, an edit, or in tests)."""
    redis = get_redis()
    pattern = f"atelier:ai-health:{connection_id if connection_id is not None else '*'}:*"
    keys = list(redis.scan_iter(match=pattern, count=500))
    if keys:
        redis.delete(*keys)


def settings_provider_health() -> list[dict[str, Any]]:
    """The remote providers settings turn on (the registry table) that were never seeded into an AI
    connection: settings still rule them, so they appear beside the connections with this process's
    breaker. Not probed: a settings-only provider has no stored test to compare with."""
    from app.services.ai import seed

    settings = get_settings()
    return [{"name": spec.name, "kind": spec.kind, "label": spec.label, "breaker": breaker_state(spec.name)}
            for spec in registry.PROVIDERS
            if not spec.local and spec.configured(settings) and seed.seeded_ref(spec.seed_key) is None]
