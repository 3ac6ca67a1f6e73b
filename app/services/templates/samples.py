"""Named sets of sample data for a template's variables: the preview and test sends use them.

The data is checked against the variables only when it is used (a render names the bad variable): a sample
set outlives schema edits, and the editor shows which sets no longer fit.
"""

from __future__ import annotations

import json

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import TemplateSample, utcnow
from app.services.auth.accounts import UserPublic
from app.services.templates import library

MAX_SAMPLES = 50  # per template
MAX_DATA = 64 * 1024  # bytes of JSON per set
MAX_NAME = 60


def _clean(name: str, data: object) -> tuple[str, dict]:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(f"Give the sample set a name of 1–{MAX_NAME} characters.", code="sample_name_invalid")
    if not isinstance(data, dict):
        raise ValidationFailed("Sample data must be an object of variable → value.", code="sample_data_invalid")
    size = len(json.dumps(data, ensure_ascii=False).encode())
    if size > MAX_DATA:
        raise ValidationFailed(f"The sample data is {size // 1024} KB; at most {MAX_DATA // 1024} KB.",
                               code="sample_data_too_large")
    return name, data


def list_samples(*, session: Session, actor: UserPublic, template_id: int) -> list[TemplateSample]:
    template = library.load(session=session, actor=actor, template_id=template_id)
    return list(session.exec(select(TemplateSample).where(TemplateSample.template_id == template.id)
                             .order_by(func.lower(TemplateSample.name), col(TemplateSample.id))))


def _get(session: Session, template_id: int, sample_id: int) -> TemplateSample:
    sample = session.get(TemplateSample, sample_id)
    if sample is None or sample.template_id != template_id:
        raise NotFound("No such sample set.", code="sample_not_found")
    return sample


def get_sample(*, session: Session, actor: UserPublic, template_id: int, sample_id: int) -> TemplateSample:
    template = library.load(session=session, actor=actor, template_id=template_id)
    return _get(session, template.id, sample_id)


def _flush(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"A sample set called “{name}” already exists.", code="sample_name_taken") from None


def create_sample(*, session: Session, actor: UserPublic, template_id: int, name: str,
                  data: dict) -> TemplateSample:
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    name, data = _clean(name, data)
    count = session.exec(select(func.count()).select_from(TemplateSample)
                         .where(TemplateSample.template_id == template.id)).one()
    if count >= MAX_SAMPLES:
        raise Conflict(f"A template keeps at most {MAX_SAMPLES} sample sets; delete one first.",
                       code="too_many_samples")
    sample = TemplateSample(template_id=template.id, name=name, data=data)
    session.add(sample)
    _flush(session, name)
    return sample


def update_sample(*, session: Session, actor: UserPublic, template_id: int, sample_id: int,
                  name: str | None = None, data: dict | None = None) -> TemplateSample:
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    sample = _get(session, template.id, sample_id)
    new_name, new_data = _clean(sample.name if name is None else name, sample.data if data is None else data)
    sample.name, sample.data, sample.updated_at = new_name, dict(new_data), utcnow()
    session.add(sample)
    _flush(session, new_name)
    return sample


def delete_sample(*, session: Session, actor: UserPublic, template_id: int, sample_id: int) -> None:
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    session.delete(_get(session, template.id, sample_id))


def public(sample: TemplateSample) -> dict:
    return {"id": sample.id, "name": sample.name, "data": sample.data,
            "updated_at": sample.updated_at.isoformat()}
