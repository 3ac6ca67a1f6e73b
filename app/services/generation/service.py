"""Image generations: validate and moderate a request, start its job, keep the gallery."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.db import session_scope
from app.errors import NotFound, ValidationFailed
from app.models import Asset, Generation, GenerationImage, Job, JobStatus, utcnow
from app.queue import queue_position
from app.services import jobs, throttle
from app.services.assets import service as assets
from app.services.generation import registry
from app.services.generation.base import Capabilities
from app.services.generation.styles import apply_style, get_style
from app.services.moderation import policy as content_policy
from app.settings import get_settings

SIZE_PATTERN = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")
MAX_SEED = 2**32 - 1
GALLERY_PAGE_MAX = 100


class GenerationInput(BaseModel):
    """What a user asks for; the same model validates the Generate page and the REST API."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    prompt: str = Field(min_length=1, max_length=2000)
    negative_prompt: str = Field(default="", max_length=2000)
    style: str = Field(default="", max_length=40)
    size: str = Field(default="1024x1024", max_length=11)
    n: int = Field(default=1, ge=1, le=4)
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)  # None: a random seed, shown afterwards
    provider: str = Field(default="", max_length=200)  # "": the server's default; a name or "conn:<id>:<model>"
    model: str = Field(default="", max_length=120)

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        match = SIZE_PATTERN.match(value)
        if not match:
            raise ValueError('size must look like "1024x768"')
        return f"{int(match[1])}x{int(match[2])}"

    @property
    def dimensions(self) -> tuple[int, int]:
        width, height = self.size.split("x")
        return int(width), int(height)


def check_size(caps: Capabilities, width: int, height: int, label: str) -> None:
    """ValidationFailed naming the sizes the provider accepts when (width, height) is not one."""
    size = f"{width}x{height}"
    if caps.sizes:
        if size not in caps.sizes:
            raise ValidationFailed(f"{label} makes these sizes only: {', '.join(caps.sizes)}.", code="invalid_size")
        return
    lo, hi, step = caps.min_side, caps.max_side, caps.size_multiple
    if not (lo <= width <= hi and lo <= height <= hi):
        raise ValidationFailed(f"{label} makes images from {lo} to {hi} pixels per side.", code="invalid_size")
    if width % step or height % step:
        raise ValidationFailed(f"{label} needs width and height in multiples of {step}.", code="invalid_size")


def price(provider: str, n: int) -> int:
    from app.services.ai import resolve

    return resolve.price_of("images", provider, n)


def _resolve(data: GenerationInput) -> tuple[str, Capabilities, str]:
    """(provider name, its capabilities, model) after checking the request fits the provider."""
    name = data.provider or registry.default_name()
    provider = registry.get_provider(name)
    caps, label = provider.capabilities, registry.label(name)
    width, height = data.dimensions
    check_size(caps, width, height, label)
    if data.n > caps.max_n:
        raise ValidationFailed(f"{label} makes at most {caps.max_n} image(s) per request.", code="invalid_count")
    model = data.model or (caps.models[0] if caps.models else "")
    if data.model and caps.models and data.model not in caps.models:
        raise ValidationFailed(f"{label} offers these models: {', '.join(caps.models)}.", code="unknown_model")
    return name, caps, model


def create_generation(*, workspace_id: int, data: GenerationInput, user_id: int | None = None) -> Generation:
    """Validate, moderate, reserve credits and queue the job; returns the generation (with job_id).

    Moderation runs before any provider is called and logs its decision either way.
    """
    name, caps, model = _resolve(data)
    if data.style and data.style in caps.styles_unsupported:
        raise ValidationFailed(f"This engine cannot make the {data.style!r} style (it draws designs; it does not "
                               "make photographs or realistic renders). Pick another style, or connect an image "
                               "model for it.", code="style_not_supported")
    with session_scope() as session:
        style = get_style(session=session, key=data.style) if data.style else None
        final_prompt, final_negative = apply_style(style, data.prompt, data.negative_prompt)
    if not caps.negative_prompt:
        final_negative = ""  # the provider would ignore it; do not pretend it was used
    throttle.hit(rule=get_settings().generate_limit_per_user, scope="generate", key=str(workspace_id))
    # The user's own words are moderated (style templates are the admins' words).
    event_id = content_policy.enforce_prompt(workspace_id=workspace_id,
                                             text=f"{data.prompt}\n{data.negative_prompt}".strip())
    seed = data.seed if data.seed is not None else secrets.randbelow(MAX_SEED + 1)
    width, height = data.dimensions
    cost = price(name, data.n)
    with session_scope() as session:
        generation = Generation(workspace_id=workspace_id, prompt=data.prompt, negative_prompt=final_negative
                                if caps.negative_prompt else "", style=data.style, final_prompt=final_prompt,
                                provider=name, model=model, width=width, height=height, n=data.n, seed=seed)
        session.add(generation)
        session.flush()
        # Refused credits roll the generation back with its job; a failed enqueue removes it (no empty row in the
        # gallery) as it fails the job.
        jobs.start_tracked(session, kind="generate.images", domain_row=generation,
                           params={"generation_id": generation.id}, cost=cost, user_id=user_id,
                           on_refused=_forget)
    content_policy.link_event(event_id=event_id, generation_id=generation.id)
    return generation


def _forget(session: Session, job: Job) -> None:
    generation = session.get(Generation, job.params["generation_id"])
    if generation is not None:
        session.delete(generation)


def settle_job(session: Session, job: Job, *, reason: str = "", refused: int = 0) -> None:
    """The generation as its job stands (app.services.jobs calls it with every status change of the job, in
    that transaction). `refused`: images the output check refused (said when it succeeds); `reason`: the
    reaper ended the job (its worker was lost)."""
    generation = session.get(Generation, dict(job.params or {}).get("generation_id"))
    if not jobs.claims(session, generation, job):
        return
    if job.status == "running":
        generation.status = "running"
    elif job.status == "succeeded":
        generation.status, generation.finished_at = "succeeded", utcnow()
        generation.error = f"{refused} image(s) refused by the output check" if refused else ""
    elif job.status in jobs.TERMINAL:
        generation.status, generation.finished_at = job.status, utcnow()
        generation.error = (reason or job.error)[:1000]
    session.add(generation)


def get_generation(*, session: Session, workspace_id: int, generation_id: int) -> Generation:
    generation = session.get(Generation, generation_id)
    if generation is None or generation.workspace_id != workspace_id:  # another user's answers like a missing one
        raise NotFound("No such generation.")
    return generation


def images_of(*, session: Session, generation_ids: list[int]) -> dict[int, list[tuple[GenerationImage, Asset]]]:
    rows = session.exec(select(GenerationImage, Asset).join(Asset, col(Asset.id) == GenerationImage.asset_id)
                        .where(col(GenerationImage.generation_id).in_(generation_ids))
                        .order_by(col(GenerationImage.position))).all()
    out: dict[int, list[tuple[GenerationImage, Asset]]] = {}
    for image, asset in rows:
        out.setdefault(image.generation_id, []).append((image, asset))
    return out


def image_public(image: GenerationImage, asset: Asset) -> dict:
    return {"id": image.id, "generation_id": image.generation_id, "seed": image.seed,
            "favourite": image.favourite, "asset": assets.public(asset)}


def parameters(generation: Generation) -> dict:
    """Everything needed to make the same images again ("use these settings")."""
    return {"prompt": generation.prompt, "negative_prompt": generation.negative_prompt, "style": generation.style,
            "size": f"{generation.width}x{generation.height}", "n": generation.n, "seed": generation.seed,
            "provider": generation.provider, "model": generation.model}


def public(generation: Generation, images: list[tuple[GenerationImage, Asset]] | None = None,
           job: Job | None = None) -> dict:
    body = {"id": generation.id, "status": generation.status, "job_id": generation.job_id,
            "parameters": parameters(generation), "final_prompt": generation.final_prompt,
            "error": generation.error, "created_at": generation.created_at.isoformat(),
            "finished_at": generation.finished_at.isoformat() if generation.finished_at else None,
            "images": [image_public(i, a) for i, a in images or []]}
    if job is not None:
        body["progress"] = job.progress
        body["message"] = job.message
        body["queue_position"] = queue_position(job.queue, job.rq_id) if job.status == JobStatus.QUEUED else None
    return body


def describe(*, session: Session, workspace_id: int, generation_id: int) -> dict:
    generation = get_generation(session=session, workspace_id=workspace_id, generation_id=generation_id)
    images = images_of(session=session, generation_ids=[generation_id]).get(generation_id, [])
    job = session.get(Job, generation.job_id) if generation.job_id else None
    return public(generation, images, job)


def gallery(*, session: Session, workspace_id: int, provider: str = "", style: str = "", favourites: bool = False,
            since: datetime | None = None, until: datetime | None = None, query: str = "",
            limit: int = 40, offset: int = 0) -> tuple[list[dict], int]:
    """The owner's generated images, newest first, each with its generation's parameters."""
    limit = max(1, min(limit, GALLERY_PAGE_MAX))
    conditions = [GenerationImage.workspace_id == workspace_id]
    if provider:
        conditions.append(Generation.provider == provider)
    if style:
        conditions.append(Generation.style == style)
    if favourites:
        conditions.append(col(GenerationImage.favourite).is_(True))
    if since:
        conditions.append(GenerationImage.created_at >= since)
    if until:
        conditions.append(GenerationImage.created_at < until)
    if query:
        conditions.append(col(Generation.prompt).ilike(f"%{query[:100]}%"))
    stmt = (select(GenerationImage, Asset, Generation)
            .join(Generation, col(Generation.id) == GenerationImage.generation_id)
            .join(Asset, col(Asset.id) == GenerationImage.asset_id))
    count = (select(func.count()).select_from(GenerationImage)
             .join(Generation, col(Generation.id) == GenerationImage.generation_id))
    for condition in conditions:
        stmt, count = stmt.where(condition), count.where(condition)
    rows = session.exec(stmt.order_by(col(GenerationImage.created_at).desc(), col(GenerationImage.id).desc())
                        .limit(limit).offset(max(0, offset))).all()
    items = [{**image_public(image, asset), "parameters": {**parameters(generation), "seed": image.seed},
              "created_at": image.created_at.isoformat()} for image, asset, generation in rows]
    return items, session.exec(count).one()


def _own_image(session: Session, workspace_id: int, image_id: int) -> GenerationImage:
    image = session.get(GenerationImage, image_id)
    if image is None or image.workspace_id != workspace_id:
        raise NotFound("No such image.")
    return image


def image_with_asset(*, session: Session, workspace_id: int, image_id: int) -> tuple[GenerationImage, Asset]:
    image = _own_image(session, workspace_id, image_id)
    return image, session.get(Asset, image.asset_id)


def set_favourite(*, workspace_id: int, image_id: int, favourite: bool) -> None:
    with session_scope() as session:
        image = _own_image(session, workspace_id, image_id)
        image.favourite = favourite
        session.add(image)


def delete_image(*, workspace_id: int, image_id: int) -> None:
    """Remove an image from the gallery, and its file when nothing else uses that asset."""
    with session_scope() as session:
        image = _own_image(session, workspace_id, image_id)
        asset_id = image.asset_id
        session.delete(image)
        session.flush()
        still_used = session.exec(select(func.count()).select_from(GenerationImage)
                                  .where(GenerationImage.asset_id == asset_id)).one()
    if not still_used:
        try:
            assets.delete_asset(workspace_id=workspace_id, asset_id=asset_id)
        except NotFound:  # deleted from the library already
            pass


def variation(*, workspace_id: int, image_id: int | None = None, generation_id: int | None = None) -> Generation:
    """The same settings with a new random seed."""
    with session_scope() as session:
        if image_id is not None:
            generation_id = _own_image(session, workspace_id, image_id).generation_id
        if generation_id is None:
            raise ValidationFailed("Say which image or generation to vary.", code="missing_source")
        generation = get_generation(session=session, workspace_id=workspace_id, generation_id=generation_id)
        settings = {**parameters(generation), "seed": None}
    return create_generation(workspace_id=workspace_id, data=GenerationInput(**settings))


def cancel_generation(*, workspace_id: int, generation_id: int) -> str:
    """The job stops (or is removed from the queue); the generation follows it (settle_job)."""
    with session_scope() as session:
        job_id = get_generation(session=session, workspace_id=workspace_id, generation_id=generation_id).job_id
    return jobs.cancel(job_id=job_id, workspace_id=workspace_id)


def handle_of(generation: Generation) -> dict:
    return dict(generation.handle or {})
