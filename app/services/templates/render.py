"""Render a template version with data: an email's HTML and text, an image style's prompt and settings, a slide
template's deck. Only the active (approved) version leaves the system, unless the caller asks for a preview,
which needs `templates.write` (the people who edit it) — or, to look at a render (not to export or send it),
`approvals.review`: reviewers see exactly what they approve."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import Template, TemplateVersion
from app.services.auth.accounts import UserPublic
from app.services.templates import email, image_links, library, samples, versions
from app.services.templates.content import with_location
from app.services.workspaces.members import authorize


@dataclass(frozen=True)
class Picked:
    template: Template
    version: TemplateVersion
    data: dict


def _may_preview(session: Session, actor: UserPublic, template: Template, reviewers: bool) -> None:
    """Editors preview any version; reviewers too when only looking (they must see what they approve)."""
    if reviewers:
        try:
            authorize(session=session, actor=actor, workspace_id=template.workspace_id, action="approvals.review")
            return
        except Forbidden:
            pass
    authorize(session=session, actor=actor, workspace_id=template.workspace_id, action="templates.write")


def pick_version(*, session: Session, actor: UserPublic, template: Template, number: int | None,
                 preview: bool, reviewers: bool = False) -> TemplateVersion:
    """The version a render, export or use may read: the active one, or (preview) any, the latest by default.
    A preview needs templates.write, or approvals.review when `reviewers` (looking, not taking a file away)."""
    if preview:
        _may_preview(session, actor, template, reviewers)
        if number is not None:
            return versions.find_version(session=session, template=template, number=number)
        latest = versions.latest_version(session=session, template=template)
        if latest is None:
            raise NotFound("This template has no version yet.", code="template_version_not_found")
        return latest
    library.not_archived(template)
    active = session.get(TemplateVersion, template.active_version_id) if template.active_version_id else None
    if active is None:
        raise Conflict("This template has no approved, active version yet: only an approved version can be used. "
                       "Editors can ask for a preview (preview=true).", code="no_active_version")
    if number is not None and number != active.number:
        raise Conflict(f"Version {number} is not the active one (version {active.number} is): only the active "
                       "version can be used. Editors can ask for a preview (preview=true).",
                       code="version_not_active")
    return active


def check_data(data: object) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed("The variables must be an object of name → value.", code="template_variable_invalid")
    if len(json.dumps(data, ensure_ascii=False).encode()) > samples.MAX_DATA:
        raise ValidationFailed(f"The variables are larger than {samples.MAX_DATA // 1024} KB.",
                               code="sample_data_too_large")
    return data


def prepare(*, session: Session, actor: UserPublic, template_id: int, data: dict | None = None,
            sample_id: int | None = None, number: int | None = None, preview: bool = False,
            reviewers: bool = False) -> Picked:
    """The template, the version to use and its data (a sample set's, with `data` on top)."""
    template = library.load(session=session, actor=actor, template_id=template_id)
    version = pick_version(session=session, actor=actor, template=template, number=number, preview=preview,
                           reviewers=reviewers)
    values = {}
    if sample_id is not None:
        values = dict(samples.get_sample(session=session, actor=actor, template_id=template.id,
                                         sample_id=sample_id).data)
    values.update(check_data(data))
    return Picked(template=template, version=version, data=values)


def render_email(content: dict, data: dict) -> email.Rendered:
    try:
        return email.render(content["source"], content.get("schema") or {}, data)
    except ValidationFailed as exc:
        raise with_location(exc) from None


def image_style_request(content: dict, data: dict) -> dict:
    """The prompt and negative prompt with the variables filled in, and the style's generation settings."""
    schema = content.get("schema") or {}
    try:
        prompt = email.render_text(content["prompt"], schema, data).strip()
        negative = email.render_text(content.get("negative_prompt", ""), schema, data).strip()
    except ValidationFailed as exc:
        raise with_location(exc) from None
    if not prompt:
        raise ValidationFailed("With these values the prompt is empty.", code="template_variable_invalid")
    return {"prompt": prompt, "negative_prompt": negative, "settings": dict(content.get("settings") or {})}


def render(*, session: Session, actor: UserPublic, template_id: int, data: dict | None = None,
           sample_id: int | None = None, number: int | None = None, preview: bool = False) -> dict:
    """What the version makes with the data, per kind (the REST render answers this). The active version of an
    email carries its library pictures at signed public addresses (image_links); a preview keeps the member-only
    ones. `session` may be read-only: new links commit on their own."""
    picked = prepare(session=session, actor=actor, template_id=template_id, data=data, sample_id=sample_id,
                     number=number, preview=preview, reviewers=True)
    content, kind = picked.version.content, picked.template.kind
    body = {"template_id": picked.template.id, "kind": kind, "version": picked.version.number,
            "status": picked.version.status}
    if kind == "email":
        out = render_email(content, picked.data)
        if not preview:  # what leaves: library pictures at their signed public addresses (a little longer)
            published = image_links.publish(session=session, actor_id=actor.id, template=picked.template,
                                            version=picked.version, html=out.html, text=out.text,
                                            purpose=image_links.APPROVED, own_transaction=True)
            out = email.Rendered(html=published.html, text=published.text,
                                 size_bytes=len(published.html.encode()))
        return {**body, "html": out.html, "text": out.text, "size_bytes": out.size_bytes,
                "clipped_by_gmail": out.clipped_by_gmail}
    if kind == "image_style":
        return {**body, **image_style_request(content, picked.data)}
    outline = content.get("outline") or {}
    return {**body, "title": outline.get("title", ""), "slides": len(outline.get("slides") or []),
            "outline": outline, "theme": content.get("theme", ""), "brand_kit_name": content.get("brand_kit_name", "")}
