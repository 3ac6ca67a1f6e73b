"""From a picker's value ("conn:<id>:<model>") to a ready client, built once per process.

A process keeps each connection's decrypted snapshot and the clients built from it until the row's
`version` changes (every edit bumps it), so the key is decrypted and the client built once, not per
item. A forked work horse starts with an empty cache (app.process_cache).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from app.db import read_scope
from app.errors import ValidationFailed
from app.models import AIConnection, AIDefault
from app.process_cache import ForkSafeCache
from app.providers import keybox
from app.providers.presets import PRESETS
from app.services.ai import builders
from app.services.ai.builders import Snapshot

PREFIX = "conn:"
_snapshots = ForkSafeCache()  # str(id) → Snapshot
_clients = ForkSafeCache()  # "id|version|capability|model" → client


def is_ref(value: str) -> bool:
    return value.startswith(PREFIX)


def make_ref(connection_id: int, model: str) -> str:
    return f"{PREFIX}{connection_id}:{model}"


def parse_ref(ref: str) -> tuple[int, str]:
    """(connection id, model) of "conn:<id>:<model>"; ValidationFailed when it is not one."""
    parts = ref.split(":", 2)
    if len(parts) != 3 or parts[0] + ":" != PREFIX or not parts[1].isdigit():
        raise ValidationFailed(f"{ref!r} does not name an AI connection (conn:<id>:<model>).", code="unknown_provider")
    return int(parts[1]), parts[2]


def snapshot(connection_id: int) -> Snapshot:
    """The connection as stored now (one primary-key read), decrypting its key only when it changed."""
    with read_scope() as session:
        row = session.get(AIConnection, connection_id)
        if row is None:
            raise ValidationFailed("That AI connection no longer exists.", code="provider_not_configured")
        version, created = row.version, row.created_at.isoformat()
        with _snapshots.lock:
            cached = _snapshots.get(str(connection_id))
        if cached is not None and cached.version == version and cached.created == created:
            return cached
        try:
            key = keybox.open_key(row.secret)
        except keybox.KeyUnreadable as exc:
            raise ValidationFailed(f"The key of “{row.name}” cannot be read on this server: {exc}",
                                   code="provider_misconfigured") from exc
        snap = Snapshot(id=row.id, version=version, preset=row.preset, name=row.name, base_url=row.base_url,
                        api_key=key, options=dict(row.options or {}), enabled=row.enabled, created=created)
    with _snapshots.lock:
        _snapshots[str(connection_id)] = snap
    return snap


def check(capability: str, ref: str) -> Snapshot:
    """The connection `ref` names, refused (422) when it is gone, disabled or cannot do `capability`."""
    connection_id, _model = parse_ref(ref)
    snap = snapshot(connection_id)
    if not snap.enabled:
        raise ValidationFailed(f"The AI connection “{snap.name}” is disabled.", code="provider_not_configured")
    if capability not in PRESETS[snap.preset].capabilities:
        raise ValidationFailed(f"“{snap.name}” cannot do {capability}.", code="capability_not_offered")
    return snap


def client(capability: str, ref: str) -> Any:
    """The client for `capability` on the connection and model `ref` names (refused when disabled)."""
    snap, model = check(capability, ref), parse_ref(ref)[1]
    key = f"{snap.id}|{snap.version}|{snap.created}|{capability}|{model}"
    with _clients.lock:
        built = _clients.get(key)
        if built is None:
            # Built under the lock so concurrent first calls share one client and its connection pool.
            built = builders.BUILDERS[capability](snap, model)
            _clients[key] = built
    return built


def fresh_client(capability: str, ref: str) -> Any:
    """A client of its own (a slide writer owns its pool and is closed after the job)."""
    snap, model = check(capability, ref), parse_ref(ref)[1]
    return builders.BUILDERS[capability](snap, model)


def label(ref: str) -> str:
    """“Studio Ollama — llava:13b” for a ref ("" when the connection is gone)."""
    try:
        connection_id, model = parse_ref(ref)
        snap = snapshot(connection_id)
    except ValidationFailed:
        return ""
    return f"{snap.name} — {model}" if model else snap.name


def default_ref(capability: str) -> str:
    """The ref of the capability's default ("" when none: the offline engine)."""
    with read_scope() as session:
        row = session.get(AIDefault, capability)
        if row is None:
            return ""
        conn = session.get(AIConnection, row.connection_id)
        if conn is None or not conn.enabled:
            return ""
        return make_ref(row.connection_id, row.model)


def choices(capability: str) -> list[dict[str, Any]]:
    """Every enabled connection's tested models for `capability`, the default first (no secrets)."""
    with read_scope() as session:
        default = session.get(AIDefault, capability)
        rows = session.exec(select(AIConnection).where(AIConnection.enabled == True)  # noqa: E712
                            .order_by(col(AIConnection.name))).all()
        found = []
        for row in rows:
            if capability not in PRESETS[row.preset].capabilities:
                continue
            for offer in row.offers or []:
                if capability in offer.get("capabilities", ()):
                    is_default = (default is not None and default.connection_id == row.id
                                  and default.model == offer["id"])
                    found.append({"value": make_ref(row.id, offer["id"]), "label": f"{row.name} — {offer['id']}",
                                  "connection": row.name, "model": offer["id"], "preset": row.preset,
                                  "default": is_default})
    found.sort(key=lambda c: not c["default"])
    return found


def price(capability: str, ref: str, units: int) -> int:
    """Credits for `units` on `ref`: the capability default's price (the admins set it per capability)."""
    parse_ref(ref)
    with read_scope() as session:
        row = session.get(AIDefault, capability)
        per_unit = row.price if row is not None else 0
    return max(0, per_unit) * max(0, units)


def forget() -> None:
    """Drop every cached snapshot and client (tests)."""
    with _clients.lock:
        built = list(_clients.values())
        _clients.clear()
    with _snapshots.lock:
        _snapshots.clear()
    for item in built:
        close = getattr(item, "close", None)
        if callable(close):
            close()


def price_of(capability: str, name: str, units: int) -> int:
    """Credits for `units` of work on a provider name or a connection ref (the one price lookup pages use)."""
    if is_ref(name):
        return price(capability, name, units)
    from app.services import credits

    return credits.price_for(name, units)
