"""Style presets: prompt templates with a `{prompt}` placeholder, edited by admins."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import StylePreset, utcnow

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class StyleInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    key: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=60)
    template: str = Field(min_length=1, max_length=500)
    negative: str = Field(default="", max_length=500)
    position: int = Field(default=0, ge=0, le=1000)
    is_active: bool = True

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY_PATTERN.match(value):
            raise ValueError("use lower-case letters, digits, '-' or '_' (up to 40)")
        return value

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        if value.count("{prompt}") != 1:
            raise ValueError("the template must contain {prompt} exactly once")
        # Any other brace would be a typo for a placeholder we do not fill.
        if re.search(r"[{}]", value.replace("{prompt}", "")):
            raise ValueError("the only placeholder allowed is {prompt}")
        return value


def public(style: StylePreset) -> dict:
    return {"key": style.key, "name": style.name, "template": style.template, "negative": style.negative,
            "position": style.position, "is_active": style.is_active}


def list_styles(*, session: Session, active_only: bool = True) -> list[StylePreset]:
    stmt = select(StylePreset)
    if active_only:
        stmt = stmt.where(col(StylePreset.is_active).is_(True))
    return list(session.exec(stmt.order_by(col(StylePreset.position), col(StylePreset.name))).all())


def get_style(*, session: Session, key: str, active_only: bool = True) -> StylePreset:
    style = session.exec(select(StylePreset).where(StylePreset.key == key)).first()
    if style is None or (active_only and not style.is_active):
        raise ValidationFailed(f"There is no style called “{key}”.", code="unknown_style")
    return style


def apply_style(style: StylePreset | None, prompt: str, negative: str) -> tuple[str, str]:
    """(final prompt, final negative prompt) after the style's template and negative words."""
    if style is None:
        return prompt, negative
    final_negative = ", ".join(part for part in (negative.strip(), style.negative.strip()) if part)
    return style.template.replace("{prompt}", prompt), final_negative


def save_style(*, session: Session, data: StyleInput, key: str | None = None) -> StylePreset:
    """Create a style (key=None) or update the style called `key` (its key may change)."""
    clash = session.exec(select(StylePreset).where(StylePreset.key == data.key)).first()
    if key is None:
        if clash is not None:
            raise Conflict(f"A style called “{data.key}” exists already.", code="style_exists")
        style = StylePreset(key=data.key)
    else:
        style = session.exec(select(StylePreset).where(StylePreset.key == key)).first()
        if style is None:
            raise NotFound("No such style.")
        if clash is not None and clash.id != style.id:
            raise Conflict(f"A style called “{data.key}” exists already.", code="style_exists")
    style.key, style.name, style.template = data.key, data.name, data.template
    style.negative, style.position, style.is_active, style.updated_at = (data.negative, data.position,
                                                                         data.is_active, utcnow())
    session.add(style)
    session.flush()
    return style


def delete_style(*, session: Session, key: str) -> None:
    style = session.exec(select(StylePreset).where(StylePreset.key == key)).first()
    if style is None:
        raise NotFound("No such style.")
    session.delete(style)
