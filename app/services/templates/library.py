"""The template library of a workspace: create, read, search, edit the details, duplicate, archive.

Every function takes the signed-in actor and checks the permission matrix in the workspace the actor acts in;
a template of another workspace answers 404 like a missing one (its existence is not leaked). The content
lives in versions (app.services.templates.versions).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import String, cast, exists, func
from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Template, TemplateVersion, utcnow
from app.services import audit
from app.services.auth.accounts import UserPublic
from app.services.templates import approvals
from app.services.workspaces.members import authorize

KINDS = ("email", "slide", "image_style")
KIND_LABELS = {"email": "Email", "slide": "Slide deck", "image_style": "Image style"}
MAX_NAME, MAX_DESCRIPTION, MAX_CATEGORY = 120, 1000, 60
MAX_TAGS, MAX_TAG = 20, 40
MAX_QUERY = 200
MAX_PAGE = 100
STATUSES = ("active", "has_draft", "in_review", "archived")
SORTS = ("updated", "name")


def load(*, session: Session, actor: UserPublic, template_id: int, action: str = "work.read") -> Template:
    """The template when it belongs to the actor's workspace and the actor's role allows `action` there."""
    template = session.get(Template, template_id)
    if template is None or template.workspace_id != actor.workspace_id:
        raise NotFound("No such template.", code="template_not_found")
    authorize(session=session, actor=actor, workspace_id=template.workspace_id, action=action)
    return template


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Give the template a name.", code="template_name_required")
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"The name is {len(name)} characters; at most {MAX_NAME}.",
                               code="template_name_too_long")
    return name


def clean_description(text: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise ValidationFailed(f"The description is {len(text)} characters; at most {MAX_DESCRIPTION}.",
                               code="template_description_too_long")
    return text


def clean_category(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) > MAX_CATEGORY:
        raise ValidationFailed(f"The category is {len(text)} characters; at most {MAX_CATEGORY}.",
                               code="template_category_too_long")
    return text


def clean_tags(tags: list[str] | tuple[str, ...]) -> list[str]:
    """Lower-case, trimmed, unique tags in the order given: at most 20 of at most 40 characters."""
    out: list[str] = []
    for raw in tags or ():
        tag = " ".join(str(raw).split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise ValidationFailed(f"The tag “{tag[:MAX_TAG]}…” is longer than {MAX_TAG} characters.",
                                   code="template_tag_too_long")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ValidationFailed(f"{len(out)} tags; at most {MAX_TAGS}.", code="template_too_many_tags")
    return out


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown kind “{str(kind)[:20]}”: one of {', '.join(KINDS)}.",
                               code="template_kind_invalid")
    return kind


def create_template(*, session: Session, actor: UserPublic, kind: str, name: str, description: str = "",
                    category: str = "", tags: list[str] | tuple[str, ...] = (), content: dict | None = None,
                    note: str = "") -> Template:
    """A new template in the actor's workspace; with `content`, its first version (a draft) too."""
    authorize(session=session, actor=actor, workspace_id=actor.workspace_id, action="templates.write")
    template = Template(workspace_id=actor.workspace_id, kind=check_kind(kind), name=clean_name(name),
                        description=clean_description(description), category=clean_category(category),
                        tags=clean_tags(tags), created_by=actor.id)
    session.add(template)
    session.flush()
    audit.record(session=session, action="template.create", actor_id=actor.id, target=f"template:{template.id}",
                 detail=f"{kind}: {template.name}")
    if content is not None:
        from app.services.templates import versions  # versions imports this module

        versions.save_version(session=session, actor=actor, template_id=template.id, content=content,
                              note=note or "First version", base_number=0)
    return template


def get_template(*, session: Session, actor: UserPublic, template_id: int) -> Template:
    return load(session=session, actor=actor, template_id=template_id)


def update_template(*, session: Session, actor: UserPublic, template_id: int, name: str | None = None,
                    description: str | None = None, category: str | None = None,
                    tags: list[str] | None = None) -> Template:
    """Change the details (not the content: that is a new version). None leaves a field as it is."""
    template = load(session=session, actor=actor, template_id=template_id, action="templates.write")
    if name is not None:
        template.name = clean_name(name)
    if description is not None:
        template.description = clean_description(description)
    if category is not None:
        template.category = clean_category(category)
    if tags is not None:
        template.tags = clean_tags(tags)
    template.updated_at = utcnow()
    session.add(template)
    audit.record(session=session, action="template.update", actor_id=actor.id, target=f"template:{template.id}")
    return template


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _tags_text():
    # Tags are a JSON list stored as text on both databases (json.dumps: quoted, non-ASCII escaped); a tag or
    # a word matches that text the same way it was written, which keeps the filter one indexed-free LIKE.
    return cast(Template.tags, String)


def search_templates(*, session: Session, actor: UserPublic, query: str = "", kind: str | None = None,
                     category: str | None = None, tag: str | None = None, status: str | None = None,
                     sort: str = "updated", limit: int = 50, offset: int = 0) -> tuple[list[Template], int]:
    """Templates of the actor's workspace matching every filter given, and how many match in all.

    `query` matches name, description, category or a tag (substring, any case). Archived templates show only
    with status "archived". `status`: active (has an active version), has_draft (its latest version is a
    draft), in_review (a version is in review), archived.
    """
    authorize(session=session, actor=actor, workspace_id=actor.workspace_id, action="work.read")
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"Unknown status filter: one of {', '.join(STATUSES)}.", code="template_status_invalid")
    if sort not in SORTS:
        raise ValidationFailed(f"Unknown sort: one of {', '.join(SORTS)}.", code="template_sort_invalid")
    if len(query or "") > MAX_QUERY:
        raise ValidationFailed(f"The search is longer than {MAX_QUERY} characters.", code="template_query_too_long")
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
    where = [Template.workspace_id == actor.workspace_id]
    if kind:
        where.append(Template.kind == check_kind(kind))
    if category:
        where.append(func.lower(Template.category) == category.strip().lower())
    if tag:
        where.append(_tags_text().like(_like(json.dumps(tag.strip().lower())), escape="\\"))
    words = (query or "").strip().lower()
    if words:
        pattern = _like(words)
        where.append(func.lower(Template.name).like(pattern, escape="\\")
                     | func.lower(Template.description).like(pattern, escape="\\")
                     | func.lower(Template.category).like(pattern, escape="\\")
                     | _tags_text().like(_like(json.dumps(words)[1:-1]), escape="\\"))
    archived = col(Template.archived_at)
    where.append(archived.is_not(None) if status == "archived" else archived.is_(None))
    if status == "active":
        where.append(col(Template.active_version_id).is_not(None))
    elif status == "has_draft":
        where.append(exists().where(TemplateVersion.template_id == Template.id,
                                    TemplateVersion.number == Template.latest_number,
                                    TemplateVersion.status == approvals.DRAFT))
    elif status == "in_review":
        where.append(exists().where(TemplateVersion.template_id == Template.id,
                                    TemplateVersion.status == approvals.IN_REVIEW))
    total = session.exec(select(func.count()).select_from(Template).where(*where)).one()
    order = ([func.lower(Template.name), col(Template.id)] if sort == "name"
             else [col(Template.updated_at).desc(), col(Template.id).desc()])
    rows = session.exec(select(Template).where(*where).order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def duplicate_template(*, session: Session, actor: UserPublic, template_id: int,
                       name: str | None = None) -> Template:
    """A new template with the same details and, as its first draft, the latest version's content."""
    from app.services.templates import versions

    source = load(session=session, actor=actor, template_id=template_id, action="templates.write")
    latest = versions.latest_version(session=session, template=source)
    copy = create_template(session=session, actor=actor, kind=source.kind,
                           name=name if name is not None else f"{source.name[:MAX_NAME - 7]} (copy)",
                           description=source.description, category=source.category, tags=source.tags)
    copy.thumbnail_key = source.thumbnail_key
    if latest is not None:
        versions.save_version(session=session, actor=actor, template_id=copy.id, content=dict(latest.content),
                              note=f"Copied from “{source.name[:80]}” version {latest.number}", base_number=0)
    audit.record(session=session, action="template.duplicate", actor_id=actor.id, target=f"template:{copy.id}",
                 detail=f"from template:{source.id}")
    return copy


def archive_template(*, session: Session, actor: UserPublic, template_id: int) -> Template:
    """Hide it from the library (nothing is deleted); archived templates cannot be edited or sent."""
    template = load(session=session, actor=actor, template_id=template_id, action="templates.write")
    if template.archived_at is None:
        template.archived_at = template.updated_at = utcnow()
        session.add(template)
        audit.record(session=session, action="template.archive", actor_id=actor.id, target=f"template:{template.id}")
    return template


def unarchive_template(*, session: Session, actor: UserPublic, template_id: int) -> Template:
    template = load(session=session, actor=actor, template_id=template_id, action="templates.write")
    if template.archived_at is not None:
        template.archived_at = None
        template.updated_at = utcnow()
        session.add(template)
        audit.record(session=session, action="template.unarchive", actor_id=actor.id,
                     target=f"template:{template.id}")
    return template


def not_archived(template: Template) -> None:
    if template.archived_at is not None:
        raise Conflict("This template is archived; restore it first.", code="template_archived")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def public(template: Template, *, latest: TemplateVersion | None = None) -> dict:
    """What the API and the pages show of a template (its latest version's number, status and revision)."""
    return {
        "id": template.id, "kind": template.kind, "name": template.name, "description": template.description,
        "category": template.category, "tags": list(template.tags or []),
        "has_thumbnail": bool(template.thumbnail_key),
        "active_version_id": template.active_version_id, "latest_number": template.latest_number,
        "latest_status": latest.status if latest else None, "latest_revision": latest.revision if latest else None,
        "archived": template.archived_at is not None, "created_by": template.created_by,
        "created_at": _iso(template.created_at), "updated_at": _iso(template.updated_at),
    }


def latest_of(*, session: Session, templates: list[Template]) -> dict[int, TemplateVersion]:
    """template id → its latest version, in one query (for a page of the library)."""
    ids = [t.id for t in templates if t.latest_number]
    if not ids:
        return {}
    rows = session.exec(select(TemplateVersion).join(Template, col(Template.id) == TemplateVersion.template_id)
                        .where(col(Template.id).in_(ids), TemplateVersion.number == Template.latest_number)).all()
    return {v.template_id: v for v in rows}
