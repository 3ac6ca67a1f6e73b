"""Signed public links of library pictures in emails that leave: PUBLIC_URL/api/v1/public/images/<token>.

Inside the app an email's pictures are member-only addresses (/api/v1/assets/{id}/download) that an email
client cannot load. What leaves — a test send, an export or an API render of the active version — carries instead
one public link per picture, made only for the pictures of an approved version (purpose "approved": when it
becomes active, is exported or rendered) or of a tested version (purpose "test_send"). A draft preview keeps the
member-only address.

The token is an HMAC-SHA256 of the link's key (workspace, picture, template version, purpose) under
IMAGE_LINKS_SECRET (or SECRET_KEY), not a random value: an email rendered again through the API must carry the
same address as the copies already sent, and a random token stored only as a hash could never be given again.
Only SHA-256 of the token is stored, so the database alone (a backup, a read replica) cannot serve or forge a
link; the secret alone does not say which links exist or are live. One link per key, never re-made: a revoked
link stays revoked, and that version cannot leave with that picture again (409 `image_link_revoked`) — a new
approved version without it (or with it, on purpose) makes new links. Deleting the picture revokes its links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import routes
from app.db import session_scope
from app.errors import Conflict, NotFound
from app.models import Asset, ImageLink, Template, TemplateVersion, User, utcnow
from app.services import audit
from app.services.auth.accounts import UserPublic
from app.services.templates import library
from app.settings import get_settings

APPROVED = "approved"
TEST_SEND = "test_send"
PURPOSES = (APPROVED, TEST_SEND)
MAX_TOKEN = 64  # a token is 43 characters; anything longer is not one of ours
# A member-only address of a library picture, relative or on any host (an absolute one the author pasted).
MEMBER_SRC = re.compile(r"(?:https?://[^\s\"'<>/]+)?/api/v1/assets/(\d{1,18})/(?:download|thumbnail)\b")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Published:
    html: str
    text: str
    links: int  # pictures given a public address


def _key() -> bytes:
    settings = get_settings()
    return hashlib.sha256(b"atelier image links\0" + (settings.image_links_secret or settings.secret_key).encode()
                          ).digest()


def token_for(*, workspace_id: int, asset_id: int, template_version_id: int, purpose: str) -> str:
    message = f"image-link/v1/{workspace_id}/{asset_id}/{template_version_id}/{purpose}".encode()
    return base64.urlsafe_b64encode(hmac.new(_key(), message, hashlib.sha256).digest()).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def asset_ids_in(text: str) -> list[int]:
    """The library pictures a source or an HTML names, in order, each once."""
    return list(dict.fromkeys(int(m.group(1)) for m in MEMBER_SRC.finditer(text or "")))


def public_url(token: str) -> str:
    return get_settings().public_url + routes.public_image_path(token)


def _require_public_url() -> None:
    if not get_settings().public_url_set:
        raise Conflict("This email has library pictures, and PUBLIC_URL is not set: the pictures would point at "
                       f"{get_settings().public_url}, which nobody outside this machine can load. An administrator "
                       "sets PUBLIC_URL to the address people reach Atelier at.", code="public_url_unset")


def _assets(session: Session, workspace_id: int, ids: list[int]) -> dict[int, Asset]:
    if not ids:
        return {}
    rows = session.exec(select(Asset).where(col(Asset.id).in_(ids), Asset.workspace_id == workspace_id,
                                            col(Asset.deleted_at).is_(None))).all()
    return {a.id: a for a in rows}


def _existing(session: Session, version_id: int, purpose: str, ids: list[int]) -> dict[int, ImageLink]:
    rows = session.exec(select(ImageLink).where(ImageLink.template_version_id == version_id,
                                                ImageLink.purpose == purpose, col(ImageLink.asset_id).in_(ids))).all()
    return {r.asset_id: r for r in rows}


def _row(template: Template, version: TemplateVersion, purpose: str, asset_id: int, actor_id: int | None
         ) -> ImageLink:
    token = token_for(workspace_id=template.workspace_id, asset_id=asset_id, template_version_id=version.id,
                      purpose=purpose)
    return ImageLink(workspace_id=template.workspace_id, asset_id=asset_id, template_id=template.id,
                     template_version_id=version.id, purpose=purpose, token_hash=hash_token(token),
                     created_by=actor_id)


def _insert(session: Session, rows: list[ImageLink]) -> None:
    """Each row in a savepoint: a link another request made at the same instant is the same link (the token is
    derived from the key), so losing that race is fine."""
    for row in rows:
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue


def ensure_links(*, session: Session, actor_id: int | None, template: Template, version: TemplateVersion,
                 purpose: str, asset_ids: list[int], strict: bool = True,
                 own_transaction: bool = False) -> dict[int, str]:
    """The token of each picture's link for this version and purpose, making the missing links.

    `strict`: a picture not in the workspace's library (deleted, another workspace's, never there) or whose link
    was revoked is a 409 naming it; otherwise it is left out (activation publishes what it can).
    `own_transaction`: the caller's session only reads (an API render); new links commit on their own.
    """
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    if not asset_ids:
        return {}
    assets = _assets(session, template.workspace_id, asset_ids)
    existing = _existing(session, version.id, purpose, asset_ids)
    tokens: dict[int, str] = {}
    missing: list[int] = []
    for asset_id in asset_ids:
        link = existing.get(asset_id)
        asset = assets.get(asset_id)
        if asset is None or (link is not None and link.revoked_at is not None):
            if not strict:
                continue
            if asset is None:
                raise Conflict(f"Picture {asset_id} is not in this workspace's library (deleted, or never there): "
                               "remove it from the template.", code="image_unavailable",
                               details={"asset_id": asset_id})
            raise Conflict(f"The public link of the picture “{asset.filename}” in version {version.number} was "
                           "revoked, so this version cannot leave with it: remove the picture (or put it back on "
                           "purpose) in a new version and have that approved.", code="image_link_revoked",
                           details={"asset_id": asset_id})
        if link is None:
            missing.append(asset_id)
        tokens[asset_id] = token_for(workspace_id=template.workspace_id, asset_id=asset_id,
                                     template_version_id=version.id, purpose=purpose)
    if missing:
        rows = [_row(template, version, purpose, a, actor_id) for a in missing]
        if own_transaction:
            with session_scope() as writer:
                _insert(writer, rows)
        else:
            _insert(session, rows)
    return tokens


def publish(*, session: Session, actor_id: int | None, template: Template, version: TemplateVersion, html: str,
            text: str, purpose: str, own_transaction: bool = False) -> Published:
    """The rendered email with every library picture at its public address (links made as needed).

    Only pictures the version's own source names get a link: one that a variable's value brought in (any id of
    the workspace) would otherwise become public without anyone approving it, so it is refused.
    """
    rendered = asset_ids_in(html)
    if not rendered:
        return Published(html=html, text=text, links=0)
    in_source = set(asset_ids_in(version.content.get("source", "")))
    foreign = [a for a in rendered if a not in in_source]
    if foreign:
        raise Conflict(f"Picture {foreign[0]} comes from a variable's value, not from the template: only pictures "
                       "in the approved source get a public address.", code="image_not_in_source",
                       details={"asset_id": foreign[0]})
    _require_public_url()
    tokens = ensure_links(session=session, actor_id=actor_id, template=template, version=version, purpose=purpose,
                          asset_ids=rendered, own_transaction=own_transaction)

    def swap(match: re.Match) -> str:
        return public_url(tokens[int(match.group(1))])

    return Published(html=MEMBER_SRC.sub(swap, html), text=MEMBER_SRC.sub(swap, text), links=len(tokens))


def publish_active(*, session: Session, actor_id: int | None, template: Template, version: TemplateVersion) -> int:
    """When an email version becomes active: links for the pictures its source names (those still in the library
    and not revoked). Returns how many it has."""
    if template.kind != "email":
        return 0
    ids = asset_ids_in(version.content.get("source", ""))
    return len(ensure_links(session=session, actor_id=actor_id, template=template, version=version,
                            purpose=APPROVED, asset_ids=ids, strict=False))


# --- the template page and the REST API: list and revoke -------------------------------------------------


def list_links(*, session: Session, actor: UserPublic, template_id: int) -> list[dict]:
    """The template's picture links, newest first, with the picture's name and who made each."""
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    return _described(session, ImageLink.template_id == template.id)


def _described(session: Session, where) -> list[dict]:
    rows = session.exec(select(ImageLink, TemplateVersion.number, Asset.filename, User.email)
                        .join(TemplateVersion, col(TemplateVersion.id) == ImageLink.template_version_id)
                        .join(Asset, col(Asset.id) == ImageLink.asset_id, isouter=True)
                        .join(User, col(User.id) == ImageLink.created_by, isouter=True)
                        .where(where)
                        .order_by(col(ImageLink.created_at).desc(), col(ImageLink.id).desc()).limit(500)).all()
    return [public(link, number=number, filename=filename or f"picture {link.asset_id} (deleted)",
                   created_by_email=email or "") for link, number, filename, email in rows]


def describe(*, session: Session, link: ImageLink) -> dict:
    """One link as list_links shows it."""
    return _described(session, ImageLink.id == link.id)[0]


def public(link: ImageLink, *, number: int, filename: str, created_by_email: str) -> dict:
    return {"id": link.id, "asset_id": link.asset_id, "filename": filename, "version": number,
            "purpose": link.purpose, "created_by": link.created_by, "created_by_email": created_by_email,
            "created_at": link.created_at.isoformat(),
            "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
            "revoked_reason": link.revoked_reason, "active": link.revoked_at is None}


def revoke_link(*, session: Session, actor: UserPublic, template_id: int, link_id: int, ip: str = "") -> ImageLink:
    """End one link at once (idempotent). A link of another template or workspace answers 404."""
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    link = session.get(ImageLink, link_id)
    if link is None or link.template_id != template.id or link.workspace_id != template.workspace_id:
        raise NotFound("No such picture link.", code="image_link_not_found")
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by, link.revoked_reason = utcnow(), actor.id, "revoked"
        session.add(link)
        audit.record(session=session, action="template.image_link.revoked", actor_id=actor.id, ip=ip,
                     target=f"template:{template.id} image_link:{link.id}",
                     detail=f"picture {link.asset_id}, version id {link.template_version_id}, {link.purpose}")
        session.flush()
    return link


def revoke_for_assets(*, session: Session, asset_ids: list[int]) -> int:
    """A deleted picture is public nowhere: every live link of these pictures ends. Returns how many."""
    if not asset_ids:
        return 0
    ended = session.execute(update(ImageLink).where(col(ImageLink.asset_id).in_(asset_ids),
                                                    col(ImageLink.revoked_at).is_(None))
                            .values(revoked_at=utcnow(), revoked_reason="asset_deleted"))
    return ended.rowcount or 0


def live_asset(*, session: Session, token: str) -> Asset | None:
    """The picture a token opens, or None (unknown, revoked, deleted, not ready: one answer for all)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not _TOKEN.match(token):
        return None
    link = session.exec(select(ImageLink).where(ImageLink.token_hash == hash_token(token))).first()
    if link is None or link.revoked_at is not None:
        return None
    asset = session.get(Asset, link.asset_id)
    if asset is None or asset.workspace_id != link.workspace_id or asset.deleted_at is not None \
            or asset.status != "ready":
        return None
    return asset
