"""Export a template version as files: an email as a ZIP (HTML, plain text, the MJML source and its variables), a
slide template as an editable .pptx (drawn by the deck renderer), an image style as JSON. Only the active version
leaves, unless an editor asks for a preview (render.pick_version); its email's library pictures at signed public
addresses (image_links; a preview keeps the member-only ones). `session` may be read-only."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

from sqlmodel import Session

from app.errors import ValidationFailed
from app.models import Deck
from app.services.auth.accounts import UserPublic
from app.services.slides.files import PPTX_MIME, file_name, render_deck
from app.services.templates import image_links, render

FORMATS = {"email": ("zip",), "slide": ("pptx",), "image_style": ("json",)}


@dataclass(frozen=True)
class Exported:
    filename: str
    media_type: str
    data: bytes


def check_format(kind: str, fmt: str | None) -> str:
    allowed = FORMATS[kind]
    fmt = (fmt or allowed[0]).lower()
    if fmt not in allowed:
        raise ValidationFailed(f"A {kind.replace('_', ' ')} template exports as {', '.join(allowed)}.",
                               code="export_format_invalid")
    return fmt


def _email_zip(picked: render.Picked, session: Session, actor: UserPublic, preview: bool) -> Exported:
    content = picked.version.content
    out = render.render_email(content, picked.data)
    html, text = out.html, out.text
    if not preview:  # the active version leaves: library pictures at their signed public addresses
        published = image_links.publish(session=session, actor_id=actor.id, template=picked.template,
                                        version=picked.version, html=html, text=text,
                                        purpose=image_links.APPROVED, own_transaction=True)
        html, text = published.html, published.text
    stem = file_name(picked.template.name, "x")[:-2]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.html", html)
        archive.writestr(f"{stem}.txt", text)
        archive.writestr(f"{stem}.mjml", content["source"])
        archive.writestr("variables.schema.json", json.dumps(content.get("schema") or {}, indent=2))
        archive.writestr("data.json", json.dumps(picked.data, indent=2, ensure_ascii=False))
    return Exported(f"{stem}-v{picked.version.number}.zip", "application/zip", buffer.getvalue())


def slide_deck(picked: render.Picked) -> Deck:
    """The slide template as an unsaved deck of its workspace (what the renderer and "new deck" read)."""
    content = picked.version.content
    outline = content.get("outline") or {}
    return Deck(workspace_id=picked.template.workspace_id, title=outline.get("title") or picked.template.name,
                spec=dict(content.get("spec") or {}), outline=dict(outline),
                theme=content.get("theme", ""), brand_kit_key=content.get("brand_kit_key", ""),
                brand_kit_name=content.get("brand_kit_name", ""))


def _pptx(picked: render.Picked, *_context) -> Exported:
    data = render_deck(deck=slide_deck(picked))
    return Exported(file_name(picked.template.name, "pptx"), PPTX_MIME, data)


def _image_style_json(picked: render.Picked, *_context) -> Exported:
    content = picked.version.content
    body = {"name": picked.template.name, "version": picked.version.number, "prompt": content["prompt"],
            "negative_prompt": content.get("negative_prompt", ""), "settings": content.get("settings") or {},
            "variables": content.get("schema") or {},
            "rendered": render.image_style_request(content, picked.data)}
    return Exported(file_name(picked.template.name, "json"), "application/json",
                    json.dumps(body, indent=2, ensure_ascii=False).encode())


_MAKERS = {"zip": _email_zip, "pptx": _pptx, "json": _image_style_json}


def export(*, session: Session, actor: UserPublic, template_id: int, fmt: str | None = None,
           data: dict | None = None, sample_id: int | None = None, number: int | None = None,
           preview: bool = False) -> Exported:
    picked = render.prepare(session=session, actor=actor, template_id=template_id, data=data, sample_id=sample_id,
                            number=number, preview=preview)
    return _MAKERS[check_format(picked.template.kind, fmt)](picked, session, actor, preview)
