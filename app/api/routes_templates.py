"""/api/v1/templates: the template library, versions, sample sets, render, export, checks and test sends, and the
hooks into decks and generation. Reviews and comments live in routes_template_reviews.

A template of another workspace answers 404 like a missing one. Only the active (approved) version is rendered,
exported or used unless an editor asks for `preview`. Bad content answers 422 with a stable code, and the line or
the variable at fault in `error.details` (`line`, `variable`, `field`).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import CallerDep, client_ip, requires
from app.api.ids import IdPath
from app.api.schemas import file_responses
from app.api.templates_schemas import (
    AltTextIn,
    ChecksIn,
    CompareOut,
    DuplicateIn,
    FromDeckIn,
    ImageLinkList,
    ImageLinkOut,
    NewDeckOut,
    RenderIn,
    RenderOut,
    SampleIn,
    SampleList,
    SampleOut,
    SamplePatch,
    StyleGenerateIn,
    StyleGenerationOut,
    TemplateCreate,
    TemplateDetail,
    TemplateList,
    TemplateOut,
    TemplatePatch,
    TestSendIn,
    TestSendOut,
    VersionList,
    VersionOut,
    VersionSave,
)
from app.db import read_scope, session_scope
from app.errors import NotFound
from app.ids import MAX_ID
from app.models import Template, TemplateVersion
from app.services.slides.files import PPTX_MIME
from app.services.templates import (
    checks_service,
    export,
    image_links,
    kinds,
    library,
    render,
    samples,
    sends,
    versions,
)

router = APIRouter(prefix="/templates", tags=["templates"])
Number = Query(default=None, ge=1, le=1_000_000)


def _version(version: TemplateVersion, template: Template, *, content: bool = True) -> dict:
    return {**versions.public(version, content=content), "active": version.id == template.active_version_id}


def _detail(session, template: Template) -> dict:
    latest = versions.latest_version(session=session, template=template)
    active = session.get(TemplateVersion, template.active_version_id) if template.active_version_id else None
    return {**library.public(template, latest=latest), "latest": _version(latest, template) if latest else None,
            "active_number": active.number if active else None}


@router.get("", response_model=TemplateList, dependencies=[requires("work.read")])
def list_templates(caller: CallerDep, q: str = Query(default="", max_length=library.MAX_QUERY),
                   kind: Literal["email", "slide", "image_style"] | None = None,
                   category: str | None = Query(default=None, max_length=library.MAX_CATEGORY),
                   tag: str | None = Query(default=None, max_length=library.MAX_TAG),
                   status: Literal["active", "has_draft", "in_review", "archived"] | None = None,
                   sort: Literal["updated", "name"] = "updated", limit: int = Query(default=50, ge=1, le=100),
                   offset: int = Query(default=0, ge=0, le=1_000_000)) -> dict:
    """Search by name, description, category or tag (substring, any case); filter by kind, category, tag and
    status (active | has_draft | in_review | archived; archived ones only with that filter)."""
    with read_scope() as session:
        rows, total = library.search_templates(session=session, actor=caller.user, query=q, kind=kind,
                                               category=category, tag=tag, status=status, sort=sort, limit=limit,
                                               offset=offset)
        latest = library.latest_of(session=session, templates=rows)
        return {"templates": [library.public(t, latest=latest.get(t.id)) for t in rows], "total": total,
                "limit": limit, "offset": offset}


@router.post("", status_code=201, response_model=TemplateDetail, dependencies=[requires("templates.write")])
def create_template(body: TemplateCreate, caller: CallerDep) -> dict:
    """With `content`, the first version (a draft) is saved too: email {source, schema}; image_style {prompt,
    negative_prompt, settings, schema}; slide {spec, outline, theme} (or use /templates/from-deck)."""
    with session_scope() as session:
        template = library.create_template(session=session, actor=caller.user, kind=body.kind, name=body.name,
                                           description=body.description, category=body.category, tags=body.tags,
                                           content=body.content, note=body.note)
        return _detail(session, template)


@router.post("/from-deck", status_code=201, response_model=TemplateDetail, dependencies=[requires("templates.write")])
def save_deck_as_template(body: FromDeckIn, caller: CallerDep) -> dict:
    """A deck of this workspace as a new slide template, or as the next version of `template_id`."""
    with session_scope() as session:
        template = kinds.save_deck_as_template(session=session, actor=caller.user, deck_id=body.deck_id,
                                               name=body.name, description=body.description,
                                               category=body.category, tags=body.tags, template_id=body.template_id,
                                               base_number=body.base_number, base_revision=body.base_revision)
        return _detail(session, template)


@router.get("/{template_id}", response_model=TemplateDetail, dependencies=[requires("work.read")])
def get_template(template_id: IdPath, caller: CallerDep) -> dict:
    with read_scope() as session:
        return _detail(session, library.get_template(session=session, actor=caller.user, template_id=template_id))


@router.patch("/{template_id}", response_model=TemplateOut, dependencies=[requires("templates.write")])
def update_template(template_id: IdPath, body: TemplatePatch, caller: CallerDep) -> dict:
    """Name, description, category, tags (the content changes by saving a version)."""
    with session_scope() as session:
        template = library.update_template(session=session, actor=caller.user, template_id=template_id,
                                           name=body.name, description=body.description, category=body.category,
                                           tags=body.tags)
        return library.public(template)


@router.delete("/{template_id}", response_model=TemplateOut, dependencies=[requires("templates.write")])
def archive_template(template_id: IdPath, caller: CallerDep) -> dict:
    """Archive (nothing is deleted; POST …/unarchive brings it back)."""
    with session_scope() as session:
        return library.public(library.archive_template(session=session, actor=caller.user, template_id=template_id))


@router.post("/{template_id}/unarchive", response_model=TemplateOut, dependencies=[requires("templates.write")])
def unarchive_template(template_id: IdPath, caller: CallerDep) -> dict:
    with session_scope() as session:
        return library.public(library.unarchive_template(session=session, actor=caller.user,
                                                         template_id=template_id))


@router.post("/{template_id}/duplicate", status_code=201, response_model=TemplateDetail,
             dependencies=[requires("templates.write")])
def duplicate_template(template_id: IdPath, body: DuplicateIn, caller: CallerDep) -> dict:
    with session_scope() as session:
        copy = library.duplicate_template(session=session, actor=caller.user, template_id=template_id,
                                          name=body.name)
        return _detail(session, copy)


@router.get("/{template_id}/thumbnail", dependencies=[requires("work.read")],
            **file_responses("image/png", description="The template's thumbnail."))
def template_thumbnail(template_id: IdPath, caller: CallerDep) -> Response:
    with read_scope() as session:
        png = kinds.thumbnail(session=session, actor=caller.user, template_id=template_id)
    if png is None:
        raise NotFound("This template has no thumbnail.", code="thumbnail_missing")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


# --- versions ------------------------------------------------------------------------------------------


# exclude_unset: the list leaves out each version's content (as it did before its response model), not "null".
@router.get("/{template_id}/versions", response_model=VersionList, response_model_exclude_unset=True,
            dependencies=[requires("work.read")])
def list_versions(template_id: IdPath, caller: CallerDep) -> dict:
    """Newest first, without their content (GET …/versions/{number} has it)."""
    with read_scope() as session:
        template = library.get_template(session=session, actor=caller.user, template_id=template_id)
        rows = versions.list_versions(session=session, actor=caller.user, template_id=template_id)
        return {"versions": [_version(v, template, content=False) for v in rows]}


@router.post("/{template_id}/versions", status_code=201, response_model=VersionOut,
             dependencies=[requires("templates.write")])
def save_version(template_id: IdPath, body: VersionSave, caller: CallerDep) -> dict:
    """A new version — or, when the latest is in review, that version edited in place (its revision + 1, the
    current stage's approvals cleared). `base_number`/`base_revision` are what the editor started from: a stale
    one answers 409 `edit_conflict`."""
    with session_scope() as session:
        version = versions.save_version(session=session, actor=caller.user, template_id=template_id,
                                        content=body.content, note=body.note, base_number=body.base_number,
                                        base_revision=body.base_revision)
        return _version(version, session.get(Template, template_id))


@router.get("/{template_id}/versions/{number}", response_model=VersionOut, dependencies=[requires("work.read")])
def get_version(template_id: IdPath, number: IdPath, caller: CallerDep) -> dict:
    with read_scope() as session:
        template = library.get_template(session=session, actor=caller.user, template_id=template_id)
        return _version(versions.find_version(session=session, template=template, number=number), template)


@router.get("/{template_id}/compare", response_model=CompareOut, dependencies=[requires("work.read")])
def compare_versions(template_id: IdPath, caller: CallerDep, a: int | None = Query(default=None, ge=1, le=MAX_ID),
                     b: int | None = Query(default=None, ge=1, le=MAX_ID)) -> dict:
    """A unified diff of version a → version b (the source, variables, prompts or deck as text); b defaults to
    the latest version, a to the one before b."""
    with read_scope() as session:
        template = library.get_template(session=session, actor=caller.user, template_id=template_id)
        b = b or max(1, template.latest_number)
        a = a or max(1, b - 1)
        return versions.compare(session=session, actor=caller.user, template_id=template_id, a=a, b=b)


# --- sample sets ---------------------------------------------------------------------------------------


@router.get("/{template_id}/samples", response_model=SampleList, dependencies=[requires("work.read")])
def list_samples(template_id: IdPath, caller: CallerDep) -> dict:
    with read_scope() as session:
        rows = samples.list_samples(session=session, actor=caller.user, template_id=template_id)
        return {"samples": [samples.public(s) for s in rows]}


@router.post("/{template_id}/samples", status_code=201, response_model=SampleOut,
             dependencies=[requires("templates.write")])
def create_sample(template_id: IdPath, body: SampleIn, caller: CallerDep) -> dict:
    """At most 50 sets per template, 64 KB of data each."""
    with session_scope() as session:
        return samples.public(samples.create_sample(session=session, actor=caller.user, template_id=template_id,
                                                    name=body.name, data=body.data))


@router.patch("/{template_id}/samples/{sample_id}", response_model=SampleOut,
              dependencies=[requires("templates.write")])
def update_sample(template_id: IdPath, sample_id: IdPath, body: SamplePatch, caller: CallerDep) -> dict:
    with session_scope() as session:
        return samples.public(samples.update_sample(session=session, actor=caller.user, template_id=template_id,
                                                    sample_id=sample_id, name=body.name, data=body.data))


@router.delete("/{template_id}/samples/{sample_id}", status_code=204, dependencies=[requires("templates.write")])
def delete_sample(template_id: IdPath, sample_id: IdPath, caller: CallerDep) -> Response:
    with session_scope() as session:
        samples.delete_sample(session=session, actor=caller.user, template_id=template_id, sample_id=sample_id)
    return Response(status_code=204)


# --- what leaves: render, export, decks, generations, test sends ---------------------------------------


@router.post("/{template_id}/render", response_model=RenderOut, dependencies=[requires("work.read")])
def render_template(template_id: IdPath, body: RenderIn, caller: CallerDep) -> dict:
    """The active version with the variables (409 `no_active_version` / `version_not_active` otherwise); with
    `preview: true` any version, the latest by default (needs templates.write)."""
    with read_scope() as session:
        return render.render(session=session, actor=caller.user, template_id=template_id, data=body.variables,
                             sample_id=body.sample_id, number=body.version, preview=body.preview)


@router.get("/{template_id}/export", dependencies=[requires("work.read")],
            **file_responses("application/zip", PPTX_MIME, "application/json",
                             description="An email template as a ZIP, a slide template as .pptx, an image style as "
                                         "a JSON file."))
def export_template(template_id: IdPath, caller: CallerDep,
                    format: Literal["zip", "pptx", "json"] | None = Query(default=None),
                    version: int | None = Number, preview: bool = False,
                    sample_id: int | None = Query(default=None, ge=1, le=MAX_ID)) -> Response:
    """email → a ZIP (HTML, text, MJML, variables), slide → .pptx, image_style → JSON; of the active version unless
    `preview=true` (templates.write). The sample set's data (or the fallbacks) fills the variables."""
    with read_scope() as session:
        made = export.export(session=session, actor=caller.user, template_id=template_id, fmt=format,
                             sample_id=sample_id, number=version, preview=preview)
    return Response(made.data, media_type=made.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(made.filename)}",
        "Cache-Control": "private, no-store"})


@router.post("/{template_id}/decks", status_code=201, response_model=NewDeckOut,
             dependencies=[requires("slides.write")])
def new_deck(template_id: IdPath, caller: CallerDep) -> dict:
    """A new deck in this workspace from the slide template's active version."""
    with session_scope() as session:
        deck = kinds.new_deck_from_template(session=session, actor=caller.user, template_id=template_id)
        return {"deck_id": deck.id, "title": deck.title}


@router.post("/{template_id}/generations", status_code=202, response_model=StyleGenerationOut,
             dependencies=[requires("generate.write")])
def generate_with_style(template_id: IdPath, body: StyleGenerateIn, caller: CallerDep) -> dict:
    """Generate images with the image style's active version (its prompt filled with `variables`, its settings
    with `settings` on top): moderated, charged and queued like POST /images/generations."""
    generation = kinds.generate_from_style(actor=caller.user, template_id=template_id, variables=body.variables,
                                           overrides=body.settings)
    return {"id": generation.id, "job_id": generation.job_id, "status": generation.status,
            "prompt": generation.prompt}


@router.post("/{template_id}/test-sends", status_code=202, response_model=TestSendOut,
             dependencies=[requires("templates.write")])
def send_test(template_id: IdPath, body: TestSendIn, caller: CallerDep) -> dict:
    """Send a version (the latest by default: drafts may be tested) to at most 10 addresses, rendered with a
    sample set; the subject starts with [Test]. Rate-limited per member (429 with Retry-After)."""
    with session_scope() as session:
        return sends.send_test(session=session, actor=caller.user, template_id=template_id,
                               recipients=body.recipients, sample_id=body.sample_id, data=body.variables,
                               number=body.version, subject=body.subject)


# --- checks --------------------------------------------------------------------------------------------


@router.post("/{template_id}/checks", response_model=VersionOut, dependencies=[requires("templates.write")])
def run_checks(template_id: IdPath, body: ChecksIn, caller: CallerDep) -> dict:
    """Run the automatic checklist on a version (the latest by default) and store it on the version."""
    version = checks_service.run_checks(actor=caller.user, template_id=template_id, number=body.version,
                                        data=body.variables)
    with read_scope() as session:
        return _version(version, session.get(Template, template_id))


@router.post("/{template_id}/alt-text", status_code=201, response_model=VersionOut,
             dependencies=[requires("templates.write")])
def accept_alt_text(template_id: IdPath, body: AltTextIn, caller: CallerDep) -> dict:
    """Accept (or edit) an alt text proposal: the <mj-image> with that src gets it, saved as a version (the
    usual rule: base number and revision)."""
    with session_scope() as session:
        version = checks_service.accept_alt(session=session, actor=caller.user, template_id=template_id,
                                            number=body.version, src=body.src, alt=body.alt,
                                            base_number=body.base_number, base_revision=body.base_revision)
        return _version(version, session.get(Template, template_id))


# --- public picture links (emails that left) -----------------------------------------------------------


@router.get("/{template_id}/image-links", response_model=ImageLinkList, dependencies=[requires("templates.write")])
def list_image_links(template_id: IdPath, caller: CallerDep) -> dict:
    """The signed public addresses this template's emails gave its library pictures (approved versions and test
    sends), newest first, live and revoked."""
    with read_scope() as session:
        return {"links": image_links.list_links(session=session, actor=caller.user, template_id=template_id)}


@router.delete("/{template_id}/image-links/{link_id}", response_model=ImageLinkOut,
               dependencies=[requires("templates.write")])
def revoke_image_link(template_id: IdPath, link_id: IdPath, request: Request, caller: CallerDep) -> dict:
    """End a picture's public address at once (emails already sent show no picture). That version cannot leave
    with that picture again: 409 `image_link_revoked` until a new version is approved."""
    with session_scope() as session:
        link = image_links.revoke_link(session=session, actor=caller.user, template_id=template_id, link_id=link_id,
                                       ip=client_ip(request))
        return image_links.describe(session=session, link=link)
