"""The default connection and model per capability, with its price in credits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, select

from app.db import session_scope
from app.errors import ValidationFailed
from app.models import AIConnection, AIDefault
from app.providers.presets import CAPABILITIES, PRESETS
from app.services import audit

MAX_PRICE = 10_000


class DefaultInput(BaseModel):
    capability: str = Field(max_length=16)
    connection_id: int | None = None  # None: no connection, the offline engine does the work
    model: str = Field(default="", max_length=200)
    price: int = Field(default=0, ge=0, le=MAX_PRICE)


def offered(row: AIConnection, capability: str) -> list[str]:
    """The models the connection's last successful test listed for `capability`."""
    return [o["id"] for o in row.offers or [] if capability in o.get("capabilities", ())]


def get_defaults(*, session: Session) -> dict[str, dict[str, Any]]:
    rows = session.exec(select(AIDefault)).all()
    names = {c.id: c.name for c in session.exec(select(AIConnection))}
    return {d.capability: {"capability": d.capability, "connection_id": d.connection_id,
                           "connection_name": names.get(d.connection_id, ""), "model": d.model, "price": d.price}
            for d in rows}


def _check(session: Session, item: DefaultInput) -> None:
    if item.capability not in CAPABILITIES:
        raise ValidationFailed(f"There is no capability called {item.capability!r}; capabilities: "
                               f"{', '.join(CAPABILITIES)}.", code="unknown_capability")
    if item.connection_id is None:
        return
    row = session.get(AIConnection, item.connection_id)
    if row is None:
        raise ValidationFailed("That AI connection does not exist.", code="unknown_connection")
    if not row.enabled:
        raise ValidationFailed(f"“{row.name}” is disabled; enable it first.", code="connection_disabled")
    if item.capability not in PRESETS[row.preset].capabilities:
        raise ValidationFailed(f"{PRESETS[row.preset].label} cannot do {item.capability}.",
                               code="capability_not_offered")
    if row.tested_at is None or row.test_error:
        raise ValidationFailed(f"Test “{row.name}” successfully before making it a default.",
                               code="connection_not_tested")
    models = offered(row, item.capability)
    if item.model not in models:
        listed = ", ".join(models[:12]) or "none"
        raise ValidationFailed(f"“{row.name}” offers no {item.capability} model called {item.model!r} "
                               f"(its last test listed: {listed}).", code="unknown_model")


def set_defaults(*, actor_id: int, items: list[DefaultInput]) -> dict[str, dict[str, Any]]:
    """Set (or clear, with connection_id None) the default of each capability named; the others stay."""
    if len({i.capability for i in items}) != len(items):
        raise ValidationFailed("Name each capability once.", code="duplicate_capability")
    with session_scope() as session:
        for item in items:
            _check(session, item)
        for item in items:
            existing = session.get(AIDefault, item.capability)
            if item.connection_id is None:
                if existing is not None:
                    session.delete(existing)
                detail = f"{item.capability}: the offline engine"
            else:
                row = existing or AIDefault(capability=item.capability, connection_id=item.connection_id)
                row.connection_id, row.model, row.price = item.connection_id, item.model, item.price
                row.updated_at = datetime.now(UTC)
                session.add(row)
                detail = (f"{item.capability}: connection {item.connection_id}, {item.model or '-'}, "
                          f"{item.price} credits")
            audit.record(session=session, action="ai.default.set", actor_id=actor_id,
                         target=f"capability:{item.capability}", detail=detail)
        session.flush()
        return get_defaults(session=session)
