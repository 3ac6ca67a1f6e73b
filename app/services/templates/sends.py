"""Test sends of an email template: any version (the editor's draft too) rendered with a chosen sample set, to at
most 10 addresses, through the outbox (SMTP delivers it when configured). Rate-limited per member and audited;
the subject says it is a test, so a test never passes for the real thing."""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session

from app.errors import ValidationFailed
from app.models import OutboxStatus
from app.services import audit, mail, throttle
from app.services.auth.accounts import UserPublic, normalise_email
from app.services.templates import image_links, library, render
from app.settings import get_settings

MAX_RECIPIENTS = 10
MAX_SUBJECT = 150


def clean_recipients(addresses: list[str]) -> list[str]:
    out: list[str] = []
    for raw in addresses or []:
        address = normalise_email(str(raw)[:254])  # ValidationFailed invalid_email names the address's fault
        if address not in out:
            out.append(address)
    if not out:
        raise ValidationFailed("Give at least one address to send the test to.", code="test_send_no_recipients")
    if len(out) > MAX_RECIPIENTS:
        raise ValidationFailed(f"A test goes to at most {MAX_RECIPIENTS} addresses; {len(out)} were given.",
                               code="test_send_too_many_recipients")
    return out


def _deliver_after_commit(session: Session, outbox_ids: list[int]) -> None:
    """Hand the emails to a worker once the send is committed (a rolled-back send delivers nothing)."""

    def _enqueue(_session) -> None:
        from app.queue import enqueue_email_delivery

        for outbox_id in outbox_ids:
            try:
                enqueue_email_delivery(outbox_id)
            except Exception:  # the row stays pending in the admin outbox; the reaper retries it
                import logging

                logging.getLogger(__name__).exception("could not enqueue email %s", outbox_id)

    event.listen(session, "after_commit", _enqueue, once=True)


def send_test(*, session: Session, actor: UserPublic, template_id: int, recipients: list[str],
              sample_id: int | None = None, data: dict | None = None, number: int | None = None,
              subject: str = "") -> dict:
    """Render the version (the latest by default) with the sample set and send it to each address."""
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    if template.kind != "email":
        raise ValidationFailed("Only email templates can be test-sent.", code="template_kind_mismatch")
    library.not_archived(template)
    to = clean_recipients(recipients)
    subject = " ".join((subject or "").split())
    if len(subject) > MAX_SUBJECT:
        raise ValidationFailed(f"The subject is longer than {MAX_SUBJECT} characters.", code="test_send_subject")
    picked = render.prepare(session=session, actor=actor, template_id=template.id, data=data, sample_id=sample_id,
                            number=number, preview=True)
    out = render.render_email(picked.version.content, picked.data)
    # Library pictures at signed public addresses (links of purpose test_send for this version): a test shows
    # what a recipient would see, and a draft's pictures become public only through a send someone asked for.
    published = image_links.publish(session=session, actor_id=actor.id, template=template, version=picked.version,
                                    html=out.html, text=out.text, purpose=image_links.TEST_SEND)
    # Counted after the checks: a typo in an address does not use up the member's sends.
    throttle.hit(rule=get_settings().template_test_send_limit_per_user, scope="template-test-send", key=str(actor.id))
    title = f"[Test] {subject or template.name} (version {picked.version.number})"
    rows = [mail.write_outbox(session=session, to=address, subject=title, body=published.text, html=published.html)
            for address in to]
    pending = [row.id for row in rows if row.status == OutboxStatus.PENDING]
    if pending:
        _deliver_after_commit(session, pending)
    audit.record(session=session, action="template.test_send", actor_id=actor.id,
                 target=f"template:{template.id} version:{picked.version.number}",
                 detail=f"to {', '.join(to)}" + (f"; sample {sample_id}" if sample_id else ""))
    return {"version": picked.version.number, "recipients": to, "outbox_ids": [row.id for row in rows],
            "queued": bool(pending), "size_bytes": len(published.html.encode())}
