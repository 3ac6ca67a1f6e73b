"""/api/v1/admin/ai: AI connections and the default per capability (admin role only).

Keys go in, never out: responses say `has_key`. Requests and responses carry no secret, and audit
entries name what changed, not to what.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from app.api.deps import AdminDep
from app.api.ids import IdPath
from app.db import read_scope
from app.providers.presets import CAPABILITIES, PRESETS
from app.services.ai import checks, connections, defaults
from app.services.ai.connections import ConnectionInput, ConnectionPatch
from app.services.ai.defaults import DefaultInput

router = APIRouter(prefix="/admin/ai", tags=["admin", "ai"])


class OfferOut(BaseModel):
    id: str
    capabilities: list[str]
    guessed: bool = False
    label: str = ""


class ConnectionOut(BaseModel):
    id: int
    preset: str
    preset_label: str
    name: str
    base_url: str
    has_key: bool
    options: dict[str, str]
    enabled: bool
    offers: list[OfferOut]
    tested_at: str | None
    test_error: str
    latency_ms: int | None
    seeded_from: str
    created_at: str
    updated_at: str


class ConnectionList(BaseModel):
    connections: list[ConnectionOut]
    presets: list[dict[str, Any]]


class TestOut(BaseModel):
    ok: bool
    code: str  # ok | dns | refused | tls | unauthorized | forbidden | not_found | wrong_api | timeout | http_error…
    error: str
    latency_ms: int | None
    offers: list[OfferOut]
    detail: dict[str, Any]
    connection: ConnectionOut


class DefaultOut(BaseModel):
    capability: str
    connection_id: int | None
    connection_name: str = ""
    model: str = ""
    price: int = 0


class DefaultsOut(BaseModel):
    defaults: list[DefaultOut]


class DefaultsIn(BaseModel):
    defaults: list[DefaultInput] = Field(max_length=len(CAPABILITIES))


def _out(row) -> ConnectionOut:
    return ConnectionOut(**connections.view(row))


@router.get("/connections", response_model=ConnectionList)
def list_connections(caller: AdminDep) -> ConnectionList:
    with read_scope() as session:
        rows = connections.list_connections(session=session)
        return ConnectionList(connections=[_out(r) for r in rows], presets=[p.as_dict() for p in PRESETS.values()])


@router.post("/connections", status_code=201, response_model=ConnectionOut)
def add_connection(body: ConnectionInput, caller: AdminDep) -> ConnectionOut:
    return _out(connections.create_connection(actor_id=caller.user.id, data=body))


@router.patch("/connections/{connection_id}", response_model=ConnectionOut)
def edit_connection(connection_id: IdPath, body: ConnectionPatch, caller: AdminDep) -> ConnectionOut:
    return _out(connections.update_connection(actor_id=caller.user.id, connection_id=connection_id, patch=body))


@router.delete("/connections/{connection_id}", status_code=204)
def remove_connection(connection_id: IdPath, caller: AdminDep) -> Response:
    connections.delete_connection(actor_id=caller.user.id, connection_id=connection_id)
    return Response(status_code=204)


@router.post("/connections/{connection_id}/test", response_model=TestOut)
def test_connection(connection_id: IdPath, caller: AdminDep) -> TestOut:
    """Call the provider's cheapest endpoint: what it offers with the latency, or a specific error."""
    return TestOut(**checks.check_connection(actor_id=caller.user.id, connection_id=connection_id))


def _defaults(found: dict[str, dict[str, Any]]) -> DefaultsOut:
    return DefaultsOut(defaults=[DefaultOut(**found[c]) if c in found else DefaultOut(capability=c, connection_id=None)
                                 for c in CAPABILITIES])


@router.get("/defaults", response_model=DefaultsOut)
def get_defaults(caller: AdminDep) -> DefaultsOut:
    with read_scope() as session:
        return _defaults(defaults.get_defaults(session=session))


@router.put("/defaults", response_model=DefaultsOut)
def put_defaults(body: DefaultsIn, caller: AdminDep) -> DefaultsOut:
    """Set the capabilities listed (connection_id null: back to the offline engine); others stay."""
    return _defaults(defaults.set_defaults(actor_id=caller.user.id, items=body.defaults))
