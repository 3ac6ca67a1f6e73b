"""Every API answer is named in the OpenAPI document: a schema for each JSON body, a media type for each file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel

from app.api import build_api
from app.api.schemas import file_responses

# A file that happens to be JSON (a template exported as a .json download), declared with file_responses.
BINARY = {"type": "string", "format": "binary"}


def _names_a_schema(schema: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return True
    return schema.get("type") == "array" and "$ref" in schema.get("items", {})  # a list of named objects


def unnamed_bodies(spec: dict[str, Any]) -> list[str]:
    """Each 2xx answer whose JSON body has no named schema (a bare dict, or a file nobody declared)."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                content = answer.get("content")
                if content is None:
                    if status != "204":
                        found.append(f"{method.upper()} {path} {status}: no body declared")
                    continue
                for media_type, body in content.items():
                    schema = body.get("schema", {})
                    if "json" in media_type and not (_names_a_schema(schema) or schema == BINARY):
                        found.append(f"{method.upper()} {path} {status} {media_type}: {schema}")
    return found


def test_every_answer_of_the_api_is_named():
    spec = build_api().openapi()
    operations = sum(len(ops) for ops in spec["paths"].values())
    assert operations > 150  # the whole API was walked, not an empty document
    assert unnamed_bodies(spec) == []
    # Two models with one name get module-qualified names ("app__api__…"): give each a name of its own.
    assert [name for name in spec["components"]["schemas"] if "__" in name] == []


def test_files_and_streams_declare_their_media_types():
    paths = build_api().openapi()["paths"]

    def media_types(method: str, path: str) -> set[str]:
        return set(paths[path][method]["responses"]["200"]["content"])

    assert media_types("get", "/api/v1/assets/{asset_id}/thumbnail") == {"image/webp"}
    assert media_types("get", "/api/v1/rename/batches/{batch_id}/download") == {"application/zip"}
    assert media_types("get", "/api/v1/jobs/{job_id}/events") == {"text/event-stream"}
    assert "application/pdf" in media_types("get", "/api/v1/slides/{deck_id}/download")
    assert "307" in paths["/api/v1/assets/{asset_id}/download"]["get"]["responses"]


def test_the_walk_finds_a_route_that_returns_a_bare_dict():
    class Named(BaseModel):
        ok: bool

    router = APIRouter()

    @router.get("/bare")
    def bare() -> dict:
        return {"ok": True}

    @router.get("/undeclared-file")
    def undeclared_file() -> Response:
        return Response(b"%PDF", media_type="application/pdf")

    @router.get("/named", response_model=Named)
    def named() -> dict:
        return {"ok": True}

    @router.get("/named-list", response_model=list[Named])
    def named_list() -> list:
        return []

    @router.get("/file", **file_responses("application/pdf", description="A PDF."))
    def declared_file() -> Response:
        return Response(b"%PDF", media_type="application/pdf")

    app = FastAPI()
    app.include_router(router)
    found = unnamed_bodies(app.openapi())
    assert [line.split(" ")[1] for line in found] == ["/bare", "/undeclared-file"]
