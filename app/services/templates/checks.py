"""Automatic checks of an email template before any person reviews it, shown as a checklist.

Links well formed and not pointing at private addresses, every image with alt text, the size under Gmail's
clipping limit, and a short compatibility note per common email client (email_clients.json). Variables
used but not declared are refused at save time (email.check_source). The moderation policy and brand
colors are checked by the service, which knows the workspace.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

from app.services.templates.email import GMAIL_CLIP_BYTES, Rendered

# A library picture's member-only address: fine in a source, as an email that leaves carries a signed public
# link instead (image_links); checked there (in the library, not revoked), not here.
LIBRARY_SRC = re.compile(r"/api/v1/assets/\d{1,18}/(?:download|thumbnail)")
_PRIVATE_NAMES = re.compile(r"(^localhost$|\.localhost$|\.local$|\.internal$|\.lan$|\.home\.arpa$|^[^.]+$)")


@dataclass(frozen=True)
class Check:
    key: str  # links | images_alt | size | compatibility
    label: str
    ok: bool
    detail: str
    items: list[str] = field(default_factory=list)  # the links, images or rules at fault
    blocking: bool = True  # a review cannot start while a blocking check fails


_A_HREF = re.compile(r"<a\b[^>]*?\bhref=\"([^\"]*)\"", re.IGNORECASE)
_IMG = re.compile(r"<img\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"\b(src|alt)=\"([^\"]*)\"", re.IGNORECASE)


def _refs(html: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Links and images (src, alt) of MJML's output, which always quotes attributes with double quotes."""
    links = [unescape(h) for h in _A_HREF.findall(html)]
    images = []
    for attrs in _IMG.findall(html):
        found = {k.lower(): unescape(v) for k, v in _ATTR.findall(attrs)}
        images.append((found.get("src", ""), found.get("alt", "").strip()))
    return links, images


def _link_problem(href: str) -> str | None:
    href = href.strip()
    if href.startswith("mailto:"):
        return None if re.fullmatch(r"mailto:[^@\s]+@[^@\s]+\.[^@\s]+(\?.*)?", href) else "not a valid address"
    if href.startswith(("tel:", "#")):
        return None
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not a web address (http or https with a host)"
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "points at a private host name" if _PRIVATE_NAMES.search(host) else None
    if not address.is_global:
        return "points at a private address"
    return None


def images(html: str) -> list[tuple[str, str]]:
    """The (src, alt) of every image in the rendered HTML."""
    return _refs(html)[1]


@functools.cache
def _rules() -> list[dict]:
    data = json.loads((Path(__file__).with_name("email_clients.json")).read_text())
    return [dict(rule, regex=re.compile(rule["pattern"], re.IGNORECASE)) for rule in data["rules"]]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def run(rendered: Rendered, source: str) -> list[Check]:
    """The checklist for a rendered version; client notes read the source (what the author wrote): MJML's own
    output carries rounded buttons and a web font with fallbacks, which degrade well by design."""
    links, images = _refs(rendered.html)
    bad_links = [f"{href or '(empty)'}: {problem}" for href in links if (problem := _link_problem(href))]
    no_alt = [src or "(no address)" for src, alt in images if not alt]
    bad_images = [f"{src}: {problem}" for src, _ in images
                  if src and not LIBRARY_SRC.fullmatch(src) and (problem := _link_problem(src))]
    size_kb = rendered.size_bytes / 1024
    found = [rule for rule in _rules() if rule["regex"].search(source)]
    return [
        Check("links", "Links are well formed and public", not bad_links and not bad_images,
              f"{_count(len(links), 'link', 'links')} checked" if not bad_links and not bad_images
              else _count(len(bad_links) + len(bad_images), "link or image will not work for readers",
                          "links or images will not work for readers"),
              bad_links + bad_images),
        Check("images_alt", "Every image has alt text", not no_alt,
              f"{_count(len(images), 'image', 'images')} checked" if not no_alt
              else _count(len(no_alt), "image has no alt text", "images have no alt text"),
              no_alt),
        Check("size", "Under Gmail's 102 KB clipping limit", rendered.size_bytes <= GMAIL_CLIP_BYTES,
              f"{size_kb:.1f} KB of HTML" + ("" if rendered.size_bytes <= GMAIL_CLIP_BYTES
                                             else ": Gmail will cut the message and hide the rest")),
        Check("compatibility", "Works in the common email clients", not found,
              "Nothing the common clients ignore" if not found else
              _count(len(found), "thing some clients ignore", "things some clients ignore"),
              [f"{r['id']}: {', '.join(r['clients'])}. {r['advice']}" for r in found], blocking=False),
    ]
