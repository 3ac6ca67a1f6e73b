"""Library pictures into an email's source: the <mj-image> tag the editor's "Insert picture" puts in, with the
picture's member-only address (image_links gives it a public one when the email leaves) and the alt text the
library keeps for it."""

from __future__ import annotations

import html
import re

from sqlmodel import Session

from app import routes
from app.errors import Conflict, ValidationFailed
from app.services.assets.service import get_asset
from app.services.auth.accounts import UserPublic
from app.services.rename.vision.base import clip_alt_text
from app.services.templates import library

_LAST_COLUMN_END = re.compile(r"^([ \t]*)</mj-column>", re.IGNORECASE | re.MULTILINE)
_BODY_END = re.compile(r"^([ \t]*)</mj-body>", re.IGNORECASE | re.MULTILINE)


def image_tag(asset_id: int, alt: str) -> str:
    """`alt` escaped for the attribute, and its braces too: Jinja must read a picture's words as words."""
    text = html.escape(" ".join(alt.split()), quote=True).replace("{", "&#123;").replace("}", "&#125;")
    return f'<mj-image src="{routes.asset_download_url(str(asset_id))}" alt="{text}" />'


def insert_tag(source: str, tag: str) -> str:
    """The tag at the end of the email: inside its last column, else in a new section at the end of the body,
    else after the text (a source with no body yet)."""
    columns = list(_LAST_COLUMN_END.finditer(source))
    if columns:
        last = columns[-1]
        indent = last.group(1)
        return f"{source[:last.start()]}{indent}  {tag}\n{source[last.start():]}"
    body = list(_BODY_END.finditer(source))
    if body:
        last = body[-1]
        indent = last.group(1)
        block = (f"{indent}  <mj-section>\n{indent}    <mj-column>\n{indent}      {tag}\n"
                 f"{indent}    </mj-column>\n{indent}  </mj-section>\n")
        return source[:last.start()] + block + source[last.start():]
    return source.rstrip("\n") + ("\n" if source.strip() else "") + tag + "\n"


def picture_tag(*, session: Session, actor: UserPublic, template_id: int, asset_id: int) -> str:
    """The <mj-image> for a ready picture of the template's workspace (another workspace's answers 404 like a
    missing one); only editors insert pictures."""
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    if template.kind != "email":
        raise ValidationFailed("Pictures are inserted into email templates only.", code="template_kind_mismatch")
    asset = get_asset(session=session, workspace_id=template.workspace_id, asset_id=asset_id)
    if asset.status != "ready":
        raise Conflict(f"“{asset.filename}” is not ready yet; try again in a moment.", code="asset_not_ready")
    return image_tag(asset.id, clip_alt_text(asset.alt_text) if asset.alt_text.strip() else "")
