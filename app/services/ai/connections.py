"""AI connections: add, edit, disable, delete and test them (admins only; the callers check the role).

A key is sealed (app.providers.keybox) before it is stored, never returned, never logged, never
audited: views say only whether one is set.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from app.db import session_scope
from app.errors import Conflict, NotFound, ValidationFailed
from app.jsonable import json_text
from app.models import AIConnection, AIDefault, Deck, Generation, Job, JobStatus, RenameBatch, WorkflowRun
from app.providers import keybox
from app.providers.presets import PRESETS
from app.services import audit

MAX_OPTION_CHARS = 500
MAX_MODELS_OPTION = 20
RUNNING = (JobStatus.QUEUED, JobStatus.RUNNING)


class ConnectionInput(BaseModel):
    preset: str = Field(max_length=32)
    name: str = Field(min_length=1, max_length=80)
    base_url: str = Field(default="", max_length=500)
    api_key: str = Field(default="", max_length=4000)
    options: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a connection needs a name")
        return value


class ConnectionPatch(BaseModel):
    """Only the fields sent change; `api_key` "" keeps the stored key, `clear_key` removes it."""

    name: str | None = Field(default=None, min_length=1, max_length=80)
    base_url: str | None = Field(default=None, max_length=500)
    api_key: str | None = Field(default=None, max_length=4000)
    clear_key: bool = False
    options: dict[str, str] | None = None
    enabled: bool | None = None


def _check_url(preset: str, base_url: str) -> str:
    spec = PRESETS[preset]
    base_url = base_url.strip().rstrip("/") or spec.base_url
    if not spec.needs_url:
        return base_url
    if not base_url:
        raise ValidationFailed(f"{spec.label} needs the server's address (for example http://127.0.0.1:8000/v1).",
                               code="invalid_connection")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("The address must start with http:// or https:// and name a host.",
                               code="invalid_connection")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationFailed("Put credentials in the key field, not in the address (no user, query or #).",
                               code="invalid_connection")
    return base_url


def _check_options(preset: str, options: dict[str, str]) -> dict[str, str]:
    spec = PRESETS[preset]
    allowed = {f.key: f for f in spec.fields}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValidationFailed(f"{spec.label} has no setting called {', '.join(unknown)}.", code="invalid_connection")
    clean = {}
    for key, value in options.items():
        value = str(value).strip()
        if len(value) > MAX_OPTION_CHARS:
            raise ValidationFailed(f"{allowed[key].label} is too long (at most {MAX_OPTION_CHARS} characters).",
                                   code="invalid_connection")
        if value:
            clean[key] = value
    for f in spec.fields:
        if f.required and not clean.get(f.key):
            raise ValidationFailed(f"{spec.label} needs {f.label}.", code="invalid_connection")
    if len(models_option(clean)) > MAX_MODELS_OPTION:
        raise ValidationFailed(f"List at most {MAX_MODELS_OPTION} models.", code="invalid_connection")
    return clean


def models_option(options: dict[str, str]) -> list[str]:
    return [m.strip() for m in options.get("models", "").split(",") if m.strip()]


def _check_key(preset: str, api_key: str) -> str:
    spec = PRESETS[preset]
    api_key = api_key.strip()
    if spec.key == "required" and not api_key:
        raise ValidationFailed(f"{spec.label} needs its {spec.key_label.lower()}.", code="invalid_connection")
    if spec.key == "none" and api_key:
        raise ValidationFailed(f"{spec.label} takes no key.", code="invalid_connection")
    if any(ch.isspace() for ch in api_key) or not api_key.isprintable():
        raise ValidationFailed("The key has spaces or invisible characters in it; paste it again.",
                               code="invalid_connection")
    return api_key


def view(row: AIConnection) -> dict[str, Any]:
    """What pages and the API may show: never the key (only whether one is set)."""
    spec = PRESETS.get(row.preset)
    return {"id": row.id, "preset": row.preset, "preset_label": spec.label if spec else row.preset,
            "name": row.name, "base_url": row.base_url, "has_key": bool(row.secret),
            "options": dict(row.options or {}), "enabled": row.enabled,
            "offers": list(row.offers or []), "tested_at": row.tested_at.isoformat() if row.tested_at else None,
            "test_error": row.test_error, "latency_ms": row.latency_ms, "seeded_from": row.seeded_from or "",
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def list_connections(*, session: Session) -> list[AIConnection]:
    return list(session.exec(select(AIConnection).order_by(col(AIConnection.name))))


def get_connection(*, session: Session, connection_id: int) -> AIConnection:
    row = session.get(AIConnection, connection_id)
    if row is None:
        raise NotFound("No such AI connection.")
    return row


def _unique_name(session: Session, name: str, exclude: int | None = None) -> None:
    taken = session.exec(select(AIConnection.id).where(AIConnection.name == name)).first()
    if taken is not None and taken != exclude:
        raise Conflict(f"There is already a connection called “{name}”.", code="name_taken")


def create_connection(*, actor_id: int | None, data: ConnectionInput, seeded_from: str | None = None) -> AIConnection:
    if data.preset not in PRESETS:
        raise ValidationFailed(f"There is no preset called {data.preset!r}; presets: {', '.join(PRESETS)}.",
                               code="unknown_preset")
    base_url = _check_url(data.preset, data.base_url)
    options = _check_options(data.preset, data.options)
    api_key = _check_key(data.preset, data.api_key)
    with session_scope() as session:
        _unique_name(session, data.name)
        row = AIConnection(preset=data.preset, name=data.name, base_url=base_url, secret=keybox.seal(api_key),
                           options=options, enabled=data.enabled, seeded_from=seeded_from)
        session.add(row)
        session.flush()
        audit.record(session=session, action="ai.connection.create", actor_id=actor_id, target=f"ai:{row.id}",
                     detail=f"{data.preset} “{data.name}” at {base_url or '(no address)'}"
                            f"{'; seeded from settings' if seeded_from else ''}")
        session.refresh(row)
        return row


def update_connection(*, actor_id: int, connection_id: int, patch: ConnectionPatch) -> AIConnection:
    with session_scope() as session:
        row = get_connection(session=session, connection_id=connection_id)
        changed: list[str] = []
        if patch.name is not None and patch.name.strip() != row.name:
            name = " ".join(patch.name.split())
            _unique_name(session, name, exclude=row.id)
            row.name, changed = name, [*changed, "name"]
        if patch.base_url is not None:
            url = _check_url(row.preset, patch.base_url)
            if url != row.base_url:
                row.base_url, changed = url, [*changed, "address"]
        if patch.clear_key:
            _check_key(row.preset, "")
            row.secret, changed = "", [*changed, "key removed"]
        elif patch.api_key:
            row.secret, changed = keybox.seal(_check_key(row.preset, patch.api_key)), [*changed, "key replaced"]
        if patch.options is not None:
            row.options, changed = _check_options(row.preset, patch.options), [*changed, "settings"]
        if patch.enabled is not None and patch.enabled != row.enabled:
            if not patch.enabled:
                _refuse_if_default(session, row)
            row.enabled, changed = patch.enabled, [*changed, "enabled" if patch.enabled else "disabled"]
        if changed:
            row.version += 1
            row.updated_at = datetime.now(UTC)
            if {"address", "key replaced", "key removed", "settings"} & set(changed):
                row.tested_at, row.offers = None, []  # what it offers must be tested again
            session.add(row)
            audit.record(session=session, action="ai.connection.update", actor_id=actor_id,
                         target=f"ai:{row.id}", detail=f"“{row.name}”: {', '.join(changed)}")
        session.flush()
        session.refresh(row)
        return row


def _refuse_if_default(session: Session, row: AIConnection) -> None:
    uses = session.exec(select(AIDefault.capability).where(AIDefault.connection_id == row.id)).all()
    if uses:
        raise Conflict(f"“{row.name}” is the default for {', '.join(uses)}; choose another default first.",
                       code="connection_is_default")


def running_use(*, session: Session, connection_id: int) -> str:
    """What running work uses the connection ("" when nothing does)."""
    ref = f"conn:{connection_id}:"
    running_jobs = select(Job.id).where(col(Job.status).in_(RUNNING))
    checks = (
        ("a generation", select(Generation.id).where(col(Generation.provider).startswith(ref),
                                                      col(Generation.job_id).in_(running_jobs))),
        ("a slide deck", select(Deck.id).where((col(Deck.provider).startswith(ref))
                                               | (col(Deck.image_provider).startswith(ref)),
                                               col(Deck.job_id).in_(running_jobs))),
        ("a rename batch", select(RenameBatch.id).where(json_text(RenameBatch.options).contains(f'"{ref}'),
                                                        col(RenameBatch.job_id).in_(running_jobs))),
    )
    for what, query in checks:
        if session.exec(query.limit(1)).first() is not None:
            return what
    # Workflow steps run on the cut-out and upscale defaults (a run names "remote", not a connection).
    steps_default = session.exec(select(AIDefault.capability).where(
        AIDefault.connection_id == connection_id, col(AIDefault.capability).in_(("cutout", "upscale")))).first()
    if steps_default is not None:
        run = session.exec(select(WorkflowRun.id).where(json_text(WorkflowRun.definition).contains('"remote"'),
                                                        col(WorkflowRun.job_id).in_(running_jobs)).limit(1)).first()
        if run is not None:
            return "a workflow run"
    return ""


def delete_connection(*, actor_id: int, connection_id: int) -> None:
    with session_scope() as session:
        row = get_connection(session=session, connection_id=connection_id)
        busy = running_use(session=session, connection_id=connection_id)
        if busy:
            raise Conflict(f"“{row.name}” is in use by {busy} that is still running; try again when it ends, "
                           "or disable the connection so no new work starts on it.", code="connection_in_use")
        _refuse_if_default(session, row)
        audit.record(session=session, action="ai.connection.delete", actor_id=actor_id, target=f"ai:{row.id}",
                     detail=f"{row.preset} “{row.name}”")
        session.delete(row)
