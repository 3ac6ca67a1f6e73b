"""The template services (app/services/templates) as the rows the pages show: strings only, one place.

Every call goes through the services, which check the actor's role in the permission matrix; the pages
never read template tables on their own.
"""

from __future__ import annotations

from sqlmodel import Session

from app import routes
from app.models import TemplateVersion, TemplateVersionStatus
from app.services.auth.accounts import UserPublic
from app.services.templates import library
from app.services.templates.view import (
    KINDS,
    STATUS_COLORS,
    STATUS_LABELS,
    kind_label,
    status_text,
    when,
)

FACETS_SCAN = 100  # the filter menus read the categories and tags of this many templates


def card(template, latest: TemplateVersion | None, active_number: int | None) -> dict[str, str]:
    label, icon, color = KINDS.get(template.kind, (template.kind, "file", "gray"))
    return {
        "id": str(template.id), "name": template.name, "description": template.description,
        "kind": template.kind, "kind_label": label, "icon": icon, "color": color,
        "category": template.category, "tags": ", ".join(template.tags or []),
        "status": status_text(active_number=active_number, latest_status=latest.status if latest else "",
                              latest_number=template.latest_number),
        "in_review": "yes" if latest is not None and latest.status == TemplateVersionStatus.IN_REVIEW else "",
        "active": "yes" if active_number else "",
        "updated": when(template.updated_at), "archived": "yes" if template.archived_at else "",
        "thumb": routes.API + f"/templates/{template.id}/thumbnail" if template.thumbnail_key else "",
        "url": routes.template_url(str(template.id)),
    }


def _active_numbers(session: Session, templates) -> dict[int, int]:
    ids = [t.active_version_id for t in templates if t.active_version_id]
    if not ids:
        return {}
    from sqlmodel import col, select

    rows = session.exec(select(TemplateVersion.id, TemplateVersion.number).where(col(TemplateVersion.id).in_(ids)))
    return dict(rows.all())


def library_cards(session: Session, actor: UserPublic, *, q: str, kind: str, category: str, tag: str, status: str,
                  archived: bool, limit: int = 100) -> list[dict[str, str]]:
    rows, _ = library.search_templates(session=session, actor=actor, query=q, kind=kind or None,
                                       category=category or None, tag=tag or None,
                                       status="archived" if archived else (status or None), limit=limit)
    latest = library.latest_of(session=session, templates=rows)
    active = _active_numbers(session, rows)
    return [card(t, latest.get(t.id), active.get(t.active_version_id)) for t in rows]


def facets(session: Session, actor: UserPublic) -> tuple[list[str], list[str]]:
    """The categories and tags in use (for the filter menus), from the most recently changed templates."""
    rows, _ = library.search_templates(session=session, actor=actor, limit=FACETS_SCAN)
    categories = sorted({t.category for t in rows if t.category}, key=str.lower)
    tags = sorted({tag for t in rows for tag in (t.tags or [])})
    return categories, tags


def _names(session: Session, user_ids: set[int]) -> dict[int, str]:
    from sqlmodel import col, select

    from app.models import User

    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.name, User.email).where(col(User.id).in_(user_ids))).all()
    return {uid: name or email.split("@")[0] for uid, name, email in rows}


def template_facts(session: Session, template, rows: list[TemplateVersion]) -> dict[str, str]:
    """The editor's header: the template's details and its status line (rows: its versions, newest first)."""
    active = next((v.number for v in rows if v.id == template.active_version_id), None)
    latest = rows[0] if rows else None
    facts = card(template, latest, active)
    facts["active_number"] = str(active or "")
    facts["latest_status"] = latest.status if latest else ""
    facts["latest_number"] = str(latest.number) if latest else ""
    return facts


def version_rows(session: Session, template, rows: list[TemplateVersion]) -> list[dict[str, str]]:
    names = _names(session, {v.author_id for v in rows if v.author_id})
    return [{"number": str(v.number), "author": names.get(v.author_id, "someone"), "time": when(v.updated_at),
             "note": v.note, "status": v.status, "status_label": STATUS_LABELS.get(v.status, v.status),
             "color": STATUS_COLORS.get(v.status, "gray"), "revision": str(v.revision),
             "active": "yes" if v.id == template.active_version_id else "", "reason": v.reason}
            for v in rows]


def run_checks(actor: UserPublic, *, template_id: int, number: int, data: dict) -> None:
    """The service's checklist for a version, stored on it (it opens its own short transactions)."""
    from app.services.templates import checks_service

    checks_service.run_checks(actor=actor, template_id=template_id, number=number, data=data)


__all__ = ["card", "facets", "kind_label", "library_cards", "run_checks", "template_facts", "version_rows"]
