"""What pages say about the AI a server has: the offline engines' honest limits, which capabilities
have a tested connection, and the admin's setup checklist (plain data, no secrets)."""

from __future__ import annotations

from typing import Any

from app.services.ai import resolve

# What each offline engine does and cannot do, shown in or right under its picker.
OFFLINE_NOTES = {
    "vision": "Offline analyzer — reads text, dates, places and colors; does not recognize objects.",
    "images": "Offline design engine — draws designs, icons and type; no photographs.",
    "text": "Offline engine — outlines your document; writes no new text.",
    "workflows": "Offline engine — cut-out works best on a plain background; upscaling enlarges without "
                 "inventing detail.",
    "cutout": "Offline engine — cuts out subjects on plain or simple backgrounds; no hair-fine edges.",
    "upscale": "Offline engine — enlarges with a sharp resampler; invents no new detail.",
    "moderation": "Offline: the denylist only — no model reads the prompts.",
}

# Which capabilities each picker page needs a connection for (workflows: either of two).
PAGE_CAPABILITIES = {"vision": ("vision",), "images": ("images",), "text": ("text",),
                     "workflows": ("cutout", "upscale")}

# What a member is told when only the offline engine is there.
MISSING = {
    "vision": "Only the offline engine is connected — ask your admin to connect a vision model to name "
              "what is in photos.",
    "images": "Only the offline engine is connected — ask your admin to connect an image model for "
              "photographs and realistic renders.",
    "text": "Only the offline engine is connected — ask your admin to connect a text model to write slide text.",
    "workflows": "Only the offline engine is connected — ask your admin to connect a cut-out or upscale engine.",
}

# The admin's setup checklist: (key, what to do, the capabilities whose default ticks it).
CHECKLIST = (
    ("vision", "Connect a vision model to name what is in photos", ("vision",)),
    ("images", "Connect an image model for photographs and realistic renders", ("images",)),
    ("text", "Connect a text model to write slide text", ("text",)),
    ("workflows", "Connect a cut-out / upscale engine for workflows", ("cutout", "upscale")),
)


def connected() -> dict[str, bool]:
    """For each picker page's key: whether an enabled connection offers a tested model for it."""
    return {key: any(resolve.choices(cap) for cap in caps) for key, caps in PAGE_CAPABILITIES.items()}


def checklist() -> list[dict[str, Any]]:
    """The setup checklist: an item is done when its capability has a default connection."""
    return [{"key": key, "label": label, "done": any(resolve.default_ref(cap) for cap in caps)}
            for key, label, caps in CHECKLIST]
