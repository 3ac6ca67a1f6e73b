"""The automatic checklist of a template version, stored in `TemplateVersion.checks` (a list of dicts).

- email: links, alt text, Gmail size and client notes (checks.run), on the version rendered with sample data;
- every kind: the moderation policy (the admins' denylist, then the AI check when one is set up) on the words a
  reader sees and on the image addresses; pictures from the asset library through the AI image check (only when
  one is set up; external addresses are never fetched);
- brand: fonts and colors against the brand kit, when one is set;
- alt text proposals for library pictures without alt text, from the renamer's vision engine. A proposal is
  only a proposal: `accept_alt` puts it in the source when a person accepts it, as a save (the usual rule).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict

from sqlmodel import Session, col, select

from app.db import read_scope, session_scope
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Asset, Template, TemplateVersion
from app.services.auth.accounts import UserPublic
from app.services.moderation import policy as content_policy
from app.services.moderation.text import MAX_TEXT_CHARS
from app.services.rename.vision.base import ALT_TEXT_MAX, VisionRequest, clip_alt_text
from app.services.templates import checks, library, render, versions
from app.services.templates.checks import Check
from app.settings import get_settings
from app.storage import get_storage

MAX_MODERATED = 4 * MAX_TEXT_CHARS  # words checked per version (a long email is ~3,000 characters)
MAX_PROPOSALS = 20  # pictures described per run (the local analyzer takes ~0.3 s each)
ASSET_SRC = re.compile(r"/api/v1/assets/(\d{1,18})/(?:download|thumbnail)\b")
_FONT = re.compile(r"font-family\s*[=:]\s*[\"']?([^\"';>]+)", re.IGNORECASE)
_HEX = re.compile(r"#([0-9a-f]{6}|[0-9a-f]{3})\b", re.IGNORECASE)
GENERIC_FONTS = {"serif", "sans-serif", "monospace", "cursive", "system-ui", "arial", "helvetica",
                 "helvetica neue", "georgia", "times new roman", "times", "verdana", "tahoma", "ubuntu",
                 "-apple-system", "segoe ui", "roboto"}
NEUTRAL_COLORS = {"000000", "ffffff"}
_EMPTY = {"string": "", "number": 0, "integer": 0, "boolean": False, "array": []}


def _values(content: dict, data: dict) -> dict:
    """Sample data over each variable's fallback (or an empty value of its type): checks never fail on data."""
    properties = (content.get("schema") or {}).get("properties") or {}
    values = {name: spec.get("default", _EMPTY.get(spec.get("type"), "")) for name, spec in properties.items()}
    values.update(data)
    return values


def _as_dict(check: Check, **extra) -> dict:
    return {**asdict(check), **extra}


def _words_and_images(template: Template, version: TemplateVersion, data: dict) -> tuple[str, list[tuple[str, str]],
                                                                                          list[dict]]:
    """(the words a reader sees, the images as (src, alt), the email checklist) of the version."""
    content = version.content
    if template.kind == "email":
        rendered = render.render_email(content, _values(content, data))
        return rendered.text, checks.images(rendered.html), [asdict(c) for c in checks.run(rendered, content["source"])]
    if template.kind == "image_style":
        request = render.image_style_request(content, _values(content, data))
        return f"{request['prompt']}\n{request['negative_prompt']}", [], []
    outline = content.get("outline") or {}
    words = [outline.get("title", "")]
    images = []
    for slide in outline.get("slides") or []:
        words += [slide.get("title", ""), slide.get("subtitle", ""), *(slide.get("bullets") or []),
                  *(slide.get("bullets_right") or []), slide.get("quote", ""), slide.get("notes", "")]
        image = slide.get("image") or {}
        if image.get("asset_id"):
            images.append((f"/api/v1/assets/{image['asset_id']}/download", image.get("alt", "") or ""))
    return "\n".join(w for w in words if w), images, []


def _moderation(words: str, images: list[tuple[str, str]],
                assets: dict[int, Asset]) -> dict:
    text = (words + "\n" + "\n".join(src for src, _ in images)).strip()[:MAX_MODERATED]
    refused = []
    for start in range(0, len(text), MAX_TEXT_CHARS):
        decision = content_policy.check_prompt(text=text[start:start + MAX_TEXT_CHARS])
        if not decision.allowed:
            refused.append(f"Text: {decision.category or 'not allowed'}")
            break
    ai = content_policy.ai_checker()
    if ai is not None and get_settings().moderation_check_outputs:
        for asset in assets.values():
            decision = ai.check_image(get_storage().get(asset.thumb_key or asset.storage_key))
            if not decision.allowed:
                refused.append(f"Picture {asset.filename}: {decision.category or 'not allowed'}")
    return _as_dict(Check("moderation", "Follows the content policy", not refused,
                          "Nothing the content policy refuses" if not refused else
                          "The content policy refuses some of this: change it before sending it for review",
                          refused))


def _library_assets(session: Session, workspace_id: int, images: list[tuple[str, str]]) -> dict[int, Asset]:
    ids = {int(m.group(1)) for src, _ in images if (m := ASSET_SRC.search(src))}
    if not ids:
        return {}
    rows = session.exec(select(Asset).where(col(Asset.id).in_(ids), Asset.workspace_id == workspace_id,
                                            col(Asset.deleted_at).is_(None))).all()
    return {a.id: a for a in rows}


def _brand(template: Template, content: dict) -> dict | None:
    key = content.get("brand_kit_key", "")
    if not key:
        return None
    from app.services.slides.files import brand_kit, describe_brand_kit

    describe_brand_kit(workspace_id=template.workspace_id, key=key)
    kit = brand_kit(key)
    source = content.get("source", "") if template.kind == "email" else ""
    fonts = {kit.heading_font.lower(), kit.body_font.lower()} | GENERIC_FONTS
    colors = {c.lower() for c in kit.colors.values()} | NEUTRAL_COLORS
    problems = []
    for match in _FONT.finditer(source):
        first = match.group(1).split(",")[0].strip().strip("'\"").lower()
        if first and first not in fonts:
            problems.append(f"Font “{first}” is not one of the brand's ({kit.heading_font}, {kit.body_font})")
    for match in _HEX.finditer(source):
        value = match.group(1).lower()
        value = "".join(ch * 2 for ch in value) if len(value) == 3 else value
        if value not in colors:
            problems.append(f"Color #{value} is not in the brand's palette")
    problems = list(dict.fromkeys(problems))
    return _as_dict(Check("brand", f"Uses the fonts and colors of “{kit.name or 'the brand kit'}”", not problems,
                          "Fonts and colors match the brand kit" if not problems else
                          f"{len(problems)} fonts or colors are not the brand's", problems, blocking=False))


def _describe(asset: Asset) -> str:
    """The renamer's alt text for the picture when it has one, else the vision engine's."""
    if asset.alt_text.strip():
        return clip_alt_text(asset.alt_text)
    from app.services.rename.vision.registry import get_provider

    result = get_provider("local").describe(VisionRequest(image=get_storage().get(asset.storage_key), mime=asset.mime,
                                                          filename=asset.filename, ocr=False))
    return clip_alt_text(result.alt_text)


def _proposals(images: list[tuple[str, str]], assets: dict[int, Asset]) -> dict:
    proposals = []
    for src, alt in images:
        match = ASSET_SRC.search(src)
        asset = assets.get(int(match.group(1))) if match else None
        if asset is None or alt or len(proposals) >= MAX_PROPOSALS:
            continue
        proposed = _describe(asset)
        if proposed:
            proposals.append({"src": src, "alt": proposed, "asset_id": asset.id})
    return _as_dict(Check("alt_proposals", "Alt text proposed for library pictures", True,
                          f"{len(proposals)} proposals: accept or edit each one" if proposals else
                          "No library picture is missing alt text", [p["src"] for p in proposals],
                          blocking=False), proposals=proposals)


def run_checks(*, actor: UserPublic, template_id: int, number: int | None = None,
               data: dict | None = None) -> TemplateVersion:
    """Run the checklist on a version (the latest by default) and store it on the version.

    Three steps, so no transaction is held while the moderation service and the vision engine work (they open
    their own, and SQLite has one writer): read, check, then store unless the version changed meanwhile.
    """
    with read_scope() as session:
        template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
        version = render.pick_version(session=session, actor=actor, template=template, number=number, preview=True)
        words, images, results = _words_and_images(template, version, render.check_data(data))
        assets = _library_assets(session, template.workspace_id, images)
        session.expunge_all()  # kept as read: the read scope's rollback would expire them
    results.append(_moderation(words, images, assets))
    brand = _brand(template, version.content)
    if brand is not None:
        results.append(brand)
    if template.kind == "email":
        results.append(_proposals(images, assets))
    with session_scope() as session:
        stored = session.get(TemplateVersion, version.id)
        if stored is None or stored.content_hash != version.content_hash:
            raise Conflict("The version changed while it was being checked; run the checks again.",
                           code="checks_stale")
        stored.checks = results  # a new list: JSON columns track assignment, not mutation
        session.add(stored)
        session.flush()
        return stored


def blocking_failures(version: TemplateVersion) -> list[dict]:
    """The checks that keep a version from review (none stored yet counts as none run)."""
    return [c for c in version.checks or [] if c.get("blocking", True) and not c.get("ok", False)]


_IMG_TAG = re.compile(r"<mj-image\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?/?>", re.IGNORECASE)
_ALT_ATTR = re.compile(r"\salt=(\"[^\"]*\"|'[^']*')", re.IGNORECASE)


def _with_alt(source: str, src: str, alt: str) -> str:
    """The MJML source with `alt` set on every <mj-image> whose src is exactly `src`."""
    found = 0

    def change(match: re.Match) -> str:
        nonlocal found
        tag = match.group(0)
        attrs = {m.group(1).lower(): html.unescape(m.group(2)[1:-1])
                 for m in re.finditer(r"\s([a-z-]+)=(\"[^\"]*\"|'[^']*')", tag, re.IGNORECASE)}
        if attrs.get("src") != src:
            return tag
        found += 1
        value = f' alt="{html.escape(alt, quote=True)}"'
        if _ALT_ATTR.search(tag):
            return _ALT_ATTR.sub(lambda _: value, tag, count=1)
        end = -2 if tag.endswith("/>") else -1
        head = tag[:end].rstrip()
        return head + value + tag[len(head):]  # the spacing before "/>" as the author wrote it

    changed = _IMG_TAG.sub(change, source)
    if not found:
        raise NotFound("No <mj-image> in this version has that address (src).", code="image_not_found")
    return changed


def accept_alt(*, session: Session, actor: UserPublic, template_id: int, number: int, src: str, alt: str,
               base_number: int, base_revision: int = 0) -> TemplateVersion:
    """A person accepts (or edits) an alt text proposal: the source gets it and is saved (a new version, or the
    version in review edited in place); the version it was proposed for never changes."""
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    if template.kind != "email":
        raise ValidationFailed("Alt text is set this way on email templates only.", code="template_kind_mismatch")
    alt = " ".join((alt or "").split())
    if not alt or len(alt) > ALT_TEXT_MAX * 2:
        raise ValidationFailed(f"Alt text needs 1–{ALT_TEXT_MAX * 2} characters.", code="alt_text_invalid")
    version = versions.find_version(session=session, template=template, number=number)
    content = dict(version.content)
    content["source"] = _with_alt(content["source"], src, alt)
    return versions.save_version(session=session, actor=actor, template_id=template.id, content=content,
                                 note=f"Alt text accepted for {src[-60:]}", base_number=base_number,
                                 base_revision=base_revision)

