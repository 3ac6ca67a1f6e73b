"""What the template pages show, as plain functions: kinds, statuses, the starter email, the source diff,
errors by line and the sample-data form. No state here, so the unit tests call them directly."""

from __future__ import annotations

import difflib
import json
import re
from datetime import datetime
from typing import Any

from app.models import TemplateVersionStatus
from app.services.workflows.form import form_fields

KINDS = {
    # kind: (label, lucide icon, Radix color)
    "email": ("Email", "mail", "violet"),
    "slide": ("Slide deck", "presentation", "amber"),
    "image_style": ("Image style", "palette", "teal"),
}
STATUS_LABELS = {"draft": "Draft", "in_review": "In review", "approved": "Approved", "rejected": "Rejected",
                 "invalidated": "Invalidated"}
STATUS_COLORS = {"draft": "gray", "in_review": "amber", "approved": "green", "rejected": "red",
                 "invalidated": "gray"}
MAX_NOTE = 200
MAX_DIFF_LINES = 4000  # a compare of two huge sources shows this many rows, then says so

STARTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "first_name": {"type": "string", "title": "First name", "default": "there"},
        "cta_url": {"type": "string", "title": "Button link", "default": "https://example.com/welcome"},
    },
    "required": ["first_name"],
}

STARTER_SOURCE = """<mjml>
  <mj-head>
    <mj-title>Welcome aboard</mj-title>
    <mj-preview>Everything you need to get started</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="16px" line-height="1.6" color="#374151" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f4f7">
    <mj-section padding="32px 24px 8px">
      <mj-column>
        <mj-text font-size="14px" font-weight="bold" color="#6d28d9" letter-spacing="2px">ATELIER</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" border-radius="12px" padding="32px 24px">
      <mj-column>
        <mj-text font-size="26px" font-weight="bold" color="#111827">Hello {{ first_name }},</mj-text>
        <mj-text>Thanks for joining us. Your workspace is ready: bring your pictures, decks and emails
          together and share them with your team.</mj-text>
        <mj-button href="{{ cta_url }}" background-color="#6d28d9" border-radius="8px" font-size="16px"
          padding-top="16px">Get started</mj-button>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px 32px">
      <mj-column>
        <mj-text font-size="12px" color="#9ca3af" align="center">You receive this email because you signed up.
          <a href="https://example.com/unsubscribe" style="color:#9ca3af">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""

STARTER_IMAGE_STYLE: dict[str, Any] = {
    "prompt": "A {{ subject }} in soft morning light, editorial photography, muted colors",
    "negative_prompt": "text, watermark, blurry",
    "settings": {"size": "1024x1024"},
    "schema": {"type": "object", "properties": {"subject": {"type": "string", "title": "Subject",
                                                            "default": "ceramic vase"}},
               "required": ["subject"]},
}


def starter_content(kind: str) -> dict[str, Any]:
    """What a new template of `kind` starts from, so a designer sees something real at once."""
    if kind == "email":
        return {"source": STARTER_SOURCE, "schema": STARTER_SCHEMA}
    if kind == "image_style":
        return json.loads(json.dumps(STARTER_IMAGE_STYLE))
    return {}


def kind_label(kind: str) -> str:
    return KINDS.get(kind, (kind, "", ""))[0]


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def status_text(*, active_number: int | None, latest_status: str, latest_number: int) -> str:
    """The library's one-line status: the active version, and what the newest version is doing if newer."""
    parts = [f"v{active_number} active"] if active_number else []
    if latest_number and latest_number != active_number:
        if latest_status == TemplateVersionStatus.IN_REVIEW:
            parts.append(f"v{latest_number} in review")
        elif latest_status == TemplateVersionStatus.DRAFT:
            parts.append(f"v{latest_number} draft")
        elif latest_status in STATUS_LABELS:
            parts.append(f"v{latest_number} {STATUS_LABELS[latest_status].lower()}")
    return " · ".join(parts) or "No versions yet"


_LINE = re.compile(r"^Line (\d+):")


def error_line(message: str) -> int:
    """The line an error names ("Line 12: ..."), else 0."""
    found = _LINE.match(message or "")
    return int(found.group(1)) if found else 0


def source_excerpt(source: str, line: int, around: int = 1) -> list[dict[str, str]]:
    """The lines around `line` with their numbers, the faulty one marked (shown under the editor)."""
    lines = source.split("\n")
    if line < 1 or line > len(lines):
        return []
    first, last = max(1, line - around), min(len(lines), line + around)
    return [{"number": str(n), "text": lines[n - 1][:200], "bad": "yes" if n == line else ""}
            for n in range(first, last + 1)]


def diff_rows(old: str, new: str) -> list[dict[str, str]]:
    """A unified line diff: each row "same" / "del" / "add" with the old and new line numbers."""
    a, b = old.split("\n"), new.split("\n")
    rows: list[dict[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [{"kind": "same", "old": str(i1 + k + 1), "new": str(j1 + k + 1), "text": a[i1 + k]}
                     for k in range(i2 - i1)]
            continue
        rows += [{"kind": "del", "old": str(i + 1), "new": "", "text": a[i]} for i in range(i1, i2)]
        rows += [{"kind": "add", "old": "", "new": str(j + 1), "text": b[j]} for j in range(j1, j2)]
        if len(rows) > MAX_DIFF_LINES:
            break
    return rows[:MAX_DIFF_LINES]


def folded(rows: list[dict[str, str]], context: int = 3) -> list[dict[str, str]]:
    """Long runs of unchanged lines folded to `context` lines either side of a change (a "…" row between)."""
    changed = [i for i, r in enumerate(rows) if r["kind"] != "same"]
    if not changed:
        return []
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    out: list[dict[str, str]] = []
    for i, row in enumerate(rows):
        if i in keep:
            out.append(row)
        elif not out or out[-1]["kind"] != "fold":
            out.append({"kind": "fold", "old": "", "new": "", "text": "…"})
    return out


def sample_fields(schema: dict, values: dict[str, str]) -> list[dict[str, Any]]:
    """The sample-data form a template's variables make (the workflows' form builder, arrays as text)."""
    fields = form_fields(schema or {}, values)
    for field, prop in zip(fields, [(schema or {}).get("properties", {}).get(f["name"], {}) for f in fields],
                           strict=True):
        if prop.get("type") == "array":
            field["description"] = (field["description"] + " " if field["description"] else "") + \
                "Separate items with commas."
    return fields


def form_values(schema: dict, data: dict) -> dict[str, str]:
    """A sample set's data as the form's strings."""
    out = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        value = data.get(name, prop.get("default", ""))
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = ", ".join(str(v) for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out


def typed_data(schema: dict, values: dict[str, str]) -> dict[str, Any]:
    """The form's strings as the typed data the render validates; text that is not a number stays text so the
    render's error names the variable. Empty fields are left out (the fallbacks apply)."""
    data: dict[str, Any] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        raw = values.get(name, "").strip()
        if raw == "":
            continue
        kind = prop.get("type")
        if kind == "boolean":
            data[name] = raw == "true"
        elif kind == "integer":
            data[name] = int(raw) if re.fullmatch(r"-?\d+", raw) else raw
        elif kind == "number":
            try:
                data[name] = float(raw)
            except ValueError:
                data[name] = raw
        elif kind == "array":
            data[name] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            data[name] = raw
    return data


def parse_schema(text: str) -> tuple[dict | None, str]:
    """The variables editor's JSON: (schema, "") or (None, the reason, naming the line)."""
    try:
        schema = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        return None, f"Line {exc.lineno}: {exc.msg}."
    if not isinstance(schema, dict):
        return None, "The variables must be a JSON object."
    return schema, ""


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


_MJ_IMAGE = re.compile(r"<mj-image\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>", re.IGNORECASE)


def with_alt(source: str, src: str, alt: str) -> str:
    """The source with `alt` set on every <mj-image> whose src is `src` and that has no alt text yet."""
    quoted = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

    def fix(match: re.Match) -> str:
        attrs, closing = match.group(1), match.group(2)
        if not re.search(r"\bsrc=([\"'])" + re.escape(src) + r"\1", attrs):
            return match.group(0)
        blank = re.search(r"\balt=([\"'])\s*\1", attrs)
        if re.search(r"\balt=", attrs) and not blank:
            return match.group(0)
        attrs = attrs[:blank.start()] + f'alt="{quoted}"' + attrs[blank.end():] if blank else \
            attrs.rstrip() + f' alt="{quoted}"' + (" " if closing else "")
        return f"<mj-image{attrs}{closing}>"

    return _MJ_IMAGE.sub(fix, source)


def open_proposals(source: str, proposals: list[dict[str, str]]) -> list[dict[str, str]]:
    """The proposals still to decide: an image that has alt text in the box now (accepted, or written by hand) drops
    out."""
    return [p for p in proposals if with_alt(source, p["src"], p["alt"]) != source]


def check_row(check: dict[str, Any]) -> dict[str, Any]:
    """A check (email.checks.Check as a dict, or a row the checks service stored) as the checklist shows it."""
    proposals = [{"src": str(p.get("src", ""))[:500], "alt": str(p.get("alt", ""))[:300]}
                 for p in check.get("proposals") or [] if isinstance(p, dict) and p.get("alt")]
    return {"key": str(check.get("key", ""))[:40], "label": str(check.get("label", ""))[:200],
            "ok": "yes" if check.get("ok") else "", "detail": str(check.get("detail", ""))[:500],
            "faults": [str(i)[:300] for i in (check.get("items") or [])][:20],
            "blocking": "yes" if check.get("blocking", True) else "", "proposals": proposals}


def checklist(live: list[dict[str, Any]], saved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The live checks of the box's text, then the checks only the service runs (moderation, brand) as stored
    for the newest version; alt text proposals from the stored images check ride on the live one."""
    live_keys = {c["key"] for c in live}
    proposals = [p for c in saved if c["key"] == "images_alt" for p in c["proposals"]]
    rows = [{**c, "proposals": proposals} if c["key"] == "images_alt" and not c["ok"] else c for c in live]
    return rows + [c for c in saved if c["key"] not in live_keys]


def outline_rows(content: dict[str, Any]) -> list[dict[str, str]]:
    """A slide template's outline as numbered titles with their layout."""
    slides = ((content.get("outline") or {}).get("slides") or []) if isinstance(content, dict) else []
    return [{"number": str(i), "title": str(s.get("title", "") or "(untitled)")[:200],
             "layout": str(s.get("layout", ""))[:40]} for i, s in enumerate(slides[:200], start=1)
            if isinstance(s, dict)]


LINK_PURPOSES = {"approved": "Approved version", "test_send": "Test send"}
LINK_ENDINGS = {"revoked": "Revoked", "asset_deleted": "Picture deleted"}


def link_row(link: dict) -> dict[str, str]:
    """One line of the "Picture links" list (image_links.public), strings only."""
    return {"id": str(link["id"]), "filename": link["filename"], "version": str(link["version"]),
            "purpose": LINK_PURPOSES.get(link["purpose"], link["purpose"]),
            "created_by": link["created_by_email"] or "someone removed",
            "created_at": link["created_at"][:16].replace("T", " "),
            "status": "Live" if link["active"] else LINK_ENDINGS.get(link["revoked_reason"], "Revoked"),
            "active": "yes" if link["active"] else ""}
