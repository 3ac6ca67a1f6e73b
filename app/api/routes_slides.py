"""/api/v1/slides: slide decks from a topic or a document → editable outline → generated slides → .pptx/.pdf.

Owners only: someone else's deck answers 404 like a missing one.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.api.deps import CallerDep, requires
from app.api.ids import IdPath
from app.api.schemas import Outcome, file_responses
from app.api.slides_schemas import DeckJobStarted, DeckOut, DeckPage, DeckVersionList, DeckVersionOut, ThemeList
from app.db import read_scope
from app.errors import TooLarge, ValidationFailed
from app.services.slides import decks
from app.services.slides import files as deck_files
from app.services.slides import runs as deck_runs
from app.services.slides import versions as deck_versions
from app.services.slides.decks import DeckInput
from app.services.slides.engine import brand_kit, extract
from app.services.slides.engine.model import Outline
from app.services.slides.engine.pdf import libreoffice_available
from app.services.slides.engine.preview import MAX_WIDTH, MIN_WIDTH, PREVIEW_WIDTH
from app.services.slides.engine.themes import list_themes
from app.services.slides.store import (
    BUSY,
    find_slide,
    get_deck,
    need_outline,
)

router = APIRouter(prefix="/slides", tags=["slides"])

_FORM_FIELDS = set(DeckInput.model_fields)
_UPLOAD_PROPERTIES = {
    "document": {"type": "string", "format": "binary",
                 "description": "A .md, .txt, .docx or .pdf whose text becomes the source (joins source_text)."},
    "brand_kit": {"type": "string", "format": "binary",
                  "description": "A .pptx or .potx template: the deck uses its masters, layouts, fonts, colors "
                                 "and logo instead of a built-in theme."},
}
# A deck's `job` is there only while its Job row exists: the deck answers leave unset fields out.
_DECK = {"response_model": DeckOut, "response_model_exclude_unset": True}
_DECK_JOB = {"response_model": DeckJobStarted, "response_model_exclude_unset": True}
_CREATE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": DeckInput.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        **DeckInput.model_json_schema()["properties"], **_UPLOAD_PROPERTIES}}},
}}}


class NoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=200)


class RebuildInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str = Field(default="", max_length=32)


def _invalid(exc: ValidationError) -> ValidationFailed:
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else str(e["msg"])
             for e in exc.errors()[:5]]
    return ValidationFailed("; ".join(parts) or "The request is not valid.")


async def _read(upload: UploadFile, limit: int, label: str) -> bytes:
    data = await upload.read(limit + 1)  # one byte over is enough to refuse it
    if len(data) > limit:
        raise TooLarge(f"The {label} is larger than {limit // (1024 * 1024)} MB.")
    return data


def _deck_body(workspace_id: int, deck_id: int) -> dict[str, Any]:
    with read_scope() as session:
        body = decks.describe(session=session, workspace_id=workspace_id, deck_id=deck_id)
    if body["status"] in BUSY and deck_runs.heal(deck_id=deck_id):  # its job died without saying so
        with read_scope() as session:
            body = decks.describe(session=session, workspace_id=workspace_id, deck_id=deck_id)
    return body


@router.get("/themes", response_model=ThemeList, dependencies=[requires("work.read")])
def themes(caller: CallerDep) -> dict:
    """The built-in themes (fonts, colours) for a theme picker; `pdf` says whether PDF export works here."""
    return {"themes": [{"name": t.name, "label": t.label, "heading_font": t.heading_font, "body_font": t.body_font,
                        "dark": t.dark, "background": t.background, "text": t.text, "accents": list(t.accents)}
                       for t in list_themes()],
            "text_providers": decks.text_providers(), "pdf": libreoffice_available()}


@router.post("", status_code=201, openapi_extra=_CREATE_BODY, dependencies=[requires("slides.write")], **_DECK)
async def create_deck(request: Request, caller: CallerDep) -> dict:
    """JSON (`topic`, `source_text`, `slides`, `audience`, `tone`, `language`, `theme`, `provider`, …) or the same
    fields as multipart/form-data with a `document` and/or a `brand_kit` file. The local engine answers with the
    outline at once; the chat provider plans it in a job (`status` "outlining", follow `job_id`)."""
    document = kit = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=2, max_fields=len(_FORM_FIELDS) + 2)
        try:
            unknown = sorted(set(form.keys()) - _FORM_FIELDS - set(_UPLOAD_PROPERTIES))
            if unknown:
                raise ValidationFailed(f"Unknown fields: {', '.join(unknown[:5])}.")
            fields = {k: v for k, v in form.items() if k in _FORM_FIELDS and isinstance(v, str)}
            upload = form.get("document")
            if isinstance(upload, UploadFile):
                document = (upload.filename or "document", await _read(upload, extract.MAX_BYTES, "document"))
            upload = form.get("brand_kit")
            if isinstance(upload, UploadFile):
                kit = await _read(upload, brand_kit.MAX_UPLOAD_BYTES, "brand template")
        finally:
            await form.close()
    else:
        try:
            fields = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationFailed("Send the deck request as JSON or multipart/form-data.") from exc
    try:
        data = DeckInput.model_validate(fields)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    deck = await run_in_threadpool(decks.create_deck, workspace_id=caller.user.workspace_id, data=data,
                                   document=document,
                                   brand_kit=kit)
    return _deck_body(caller.user.workspace_id, deck.id)


@router.get("", response_model=DeckPage, dependencies=[requires("work.read")])
def list_decks(caller: CallerDep, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> dict:
    with read_scope() as session:
        rows, total = decks.list_decks(session=session, workspace_id=caller.user.workspace_id, limit=limit,
                                       offset=offset)
        return {"decks": [decks.summary(d) for d in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/{deck_id}", dependencies=[requires("work.read")], **_DECK)
def get_deck_route(deck_id: IdPath, caller: CallerDep) -> dict:
    return _deck_body(caller.user.workspace_id, deck_id)


@router.delete("/{deck_id}", status_code=204, dependencies=[requires("slides.write")])
def delete_deck(deck_id: IdPath, caller: CallerDep) -> Response:
    decks.delete_deck(workspace_id=caller.user.workspace_id, deck_id=deck_id)
    return Response(status_code=204)


@router.put("/{deck_id}/outline", dependencies=[requires("slides.write")], **_DECK)
def put_outline(deck_id: IdPath, body: Outline, caller: CallerDep,
                revision: int | None = Query(None, ge=0, description="The revision you edited; 409 if it moved on")
                ) -> dict:
    """Replace the outline: reorder, add, delete, rename slides, edit bullets, change layouts. Locked slides keep
    their content (send `locked: false` to edit one) and cannot be deleted while locked."""
    decks.update_outline(workspace_id=caller.user.workspace_id, deck_id=deck_id, outline=body, revision=revision)
    return _deck_body(caller.user.workspace_id, deck_id)


@router.post("/{deck_id}/outline/rebuild", status_code=202, dependencies=[requires("slides.write")], **_DECK)
def rebuild_outline(deck_id: IdPath, caller: CallerDep, body: RebuildInput | None = None) -> dict:
    """Plan the outline again from the deck's request (the current one is kept as a version)."""
    decks.rebuild_outline(workspace_id=caller.user.workspace_id, deck_id=deck_id,
                          provider=body.provider if body else "")
    return _deck_body(caller.user.workspace_id, deck_id)


@router.post("/{deck_id}/generate", status_code=202, dependencies=[requires("slides.write")], **_DECK_JOB)
def generate(deck_id: IdPath, caller: CallerDep) -> dict:
    """Write every unlocked slide (text, pictures from prompts, charts) in a job; follow `job_id`."""
    job = deck_runs.generate(workspace_id=caller.user.workspace_id, deck_id=deck_id, user_id=caller.user.id)
    return {"job_id": job.id, "deck": _deck_body(caller.user.workspace_id, deck_id)}


@router.post("/{deck_id}/cancel", response_model=Outcome, dependencies=[requires("slides.write")])
def cancel(deck_id: IdPath, caller: CallerDep) -> dict:
    """'removed' when the job had not started; 'stopping' otherwise (slides in flight finish)."""
    return {"outcome": deck_runs.cancel(workspace_id=caller.user.workspace_id, deck_id=deck_id)}


@router.post("/{deck_id}/slides/{slide_id}/regenerate", status_code=202, dependencies=[requires("slides.write")],
             **_DECK_JOB)
def regenerate(deck_id: IdPath, slide_id: str, caller: CallerDep, replace_edits: bool = False) -> dict:
    """409 `slide_edited` when the slide holds the caller's edits; `?replace_edits=true` confirms."""
    job = deck_runs.regenerate_slide(workspace_id=caller.user.workspace_id, deck_id=deck_id, slide_id=slide_id[:40],
                                     replace_edits=replace_edits, user_id=caller.user.id)
    return {"job_id": job.id, "deck": _deck_body(caller.user.workspace_id, deck_id)}


@router.post("/{deck_id}/slides/{slide_id}/lock", dependencies=[requires("slides.write")], **_DECK)
def lock(deck_id: IdPath, slide_id: str, caller: CallerDep) -> dict:
    decks.set_locked(workspace_id=caller.user.workspace_id, deck_id=deck_id, slide_id=slide_id[:40], locked=True)
    return _deck_body(caller.user.workspace_id, deck_id)


@router.post("/{deck_id}/slides/{slide_id}/unlock", dependencies=[requires("slides.write")], **_DECK)
def unlock(deck_id: IdPath, slide_id: str, caller: CallerDep) -> dict:
    decks.set_locked(workspace_id=caller.user.workspace_id, deck_id=deck_id, slide_id=slide_id[:40], locked=False)
    return _deck_body(caller.user.workspace_id, deck_id)


@router.get("/{deck_id}/slides/{slide_id}/preview.png", dependencies=[requires("work.read")],
            **file_responses("image/png", description="The slide as a PNG."))
async def preview(deck_id: IdPath, slide_id: str, caller: CallerDep,
                  width: int = Query(PREVIEW_WIDTH, ge=MIN_WIDTH, le=MAX_WIDTH),
                  v: str = Query("", max_length=64, description="Cache buster; the deck's `previews` carry it")
                  ) -> Response:
    """The slide as a PNG drawn from the same plan as the .pptx."""
    def draw() -> bytes:
        with read_scope() as session:
            deck = get_deck(session=session, workspace_id=caller.user.workspace_id, deck_id=deck_id)
            slide = find_slide(need_outline(deck), slide_id[:40])
            session.expunge(deck)
        return deck_files.preview_png(deck=deck, slide=slide, width=width)

    png = await run_in_threadpool(draw)
    # The URL changes with the slide (`v`), so a cached copy is never stale.
    cache = "private, max-age=86400, immutable" if v else "private, no-cache"
    return Response(png, media_type="image/png", headers={"Cache-Control": cache})


@router.get("/{deck_id}/download", dependencies=[requires("work.read")],
            **file_responses(deck_files.PPTX_MIME, "application/pdf", description="The deck as .pptx or PDF."))
async def download(deck_id: IdPath, caller: CallerDep, format: Literal["pptx", "pdf"] = "pptx") -> Response:
    """The deck as an editable .pptx, or as PDF through LibreOffice (503 `pdf_unavailable` when not installed)."""
    with read_scope() as session:
        deck = get_deck(session=session, workspace_id=caller.user.workspace_id, deck_id=deck_id)
        placeholders = sum(1 for s in need_outline(deck).slides if s.placeholder)
        session.expunge(deck)
    if format == "pdf":
        data, mime = await run_in_threadpool(deck_files.render_pdf, deck=deck), "application/pdf"
    else:
        data, mime = await run_in_threadpool(deck_files.render_deck, deck=deck), deck_files.PPTX_MIME
    name = deck_files.file_name(deck.title, format)
    return Response(data, media_type=mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "private, no-store",
        # Slides whose text is still the skeleton's placeholders (the page warns before the download).
        "X-Placeholder-Slides": str(placeholders)})


@router.get("/{deck_id}/versions", response_model=DeckVersionList, dependencies=[requires("work.read")])
def versions(deck_id: IdPath, caller: CallerDep) -> dict:
    with read_scope() as session:
        rows = deck_versions.list_versions(session=session, workspace_id=caller.user.workspace_id, deck_id=deck_id)
        return {"versions": [deck_versions.version_public(v) for v in rows]}


@router.post("/{deck_id}/versions", status_code=201, response_model=DeckVersionOut,
             dependencies=[requires("slides.write")])
def save_version(deck_id: IdPath, caller: CallerDep, body: NoteInput | None = None) -> dict:
    version = deck_versions.save_version(workspace_id=caller.user.workspace_id, deck_id=deck_id,
                                         note=body.note if body else "")
    return deck_versions.version_public(version)


@router.post("/{deck_id}/versions/{number}/restore", dependencies=[requires("slides.write")], **_DECK)
def restore_version(deck_id: IdPath, number: IdPath, caller: CallerDep) -> dict:
    deck_versions.restore_version(workspace_id=caller.user.workspace_id, deck_id=deck_id, number=number)
    return _deck_body(caller.user.workspace_id, deck_id)
