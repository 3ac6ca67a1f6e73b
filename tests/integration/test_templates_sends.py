"""Test sends of an email template: through the outbox to a real SMTP server (aiosmtpd), HTML and text parts,
at most 10 addresses, rate-limited per member, audited."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlmodel import select

from app.db import session_scope
from app.models import AuditEvent, OutboxEmail
from app.services import mail
from tests.integration.templates_helpers import Team, headers, make
from tests.integration.test_email import run_email_queue, smtp  # noqa: F401  (the fixture)

API = "/api/v1/templates"


@pytest.fixture
def team(api, smtp, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TEMPLATE_TEST_SEND_LIMIT_PER_USER", "2/hour")
    from tests.conftest import clear_caches

    clear_caches()
    return Team()


def test_a_draft_is_sent_with_a_sample_set_as_html_and_text(api, team, smtp):  # noqa: F811
    editor = headers(team, "editor")
    template_id = make(team.actor("editor"))
    sample = api.post(f"{API}/{template_id}/samples", json={"name": "Ana", "data": {"order_id": "Z-42",
                                                                                    "first_name": "Ana"}},
                      headers=editor).json()
    sent = api.post(f"{API}/{template_id}/test-sends", headers=editor, json={
        "recipients": ["Copy@Example.com", "copy@example.com", "design@example.com"], "sample_id": sample["id"]})
    assert sent.status_code == 202, sent.text
    body = sent.json()
    assert body["recipients"] == ["copy@example.com", "design@example.com"] and body["queued"] and body["version"] == 1
    run_email_queue()
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["copy@example.com", "design@example.com"]
    message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert message["Subject"] == "[Test] Order shipped (version 1)"
    assert "Hello Ana, your order Z-42" in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Ana, your order Z-42" in html and "<html" in html
    with session_scope() as session:
        rows = session.exec(select(OutboxEmail)).all()
        assert {r.status for r in rows} == {"sent"} and mail.html_of(rows[0].id) is not None
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "template.test_send")).one()
        assert audit.actor_id == team.users["editor"].id and "copy@example.com" in audit.detail


def test_limits_bad_addresses_roles_and_the_rate(api, team, smtp):  # noqa: F811
    editor = headers(team, "editor")
    template_id = make(team.actor("editor"))
    url = f"{API}/{template_id}/test-sends"
    eleven = [f"p{i}@example.com" for i in range(11)]
    refused = api.post(url, json={"recipients": eleven}, headers=editor)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "test_send_too_many_recipients"
    bad = api.post(url, json={"recipients": ["not an address"]}, headers=editor)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_email"
    missing = api.post(url, json={"recipients": ["a@example.com"], "variables": {"order_id": 3}}, headers=editor)
    assert missing.status_code == 422 and missing.json()["error"]["details"]["variable"] == "order_id"
    assert api.post(url, json={"recipients": ["a@example.com"]}, headers=headers(team, "viewer")).status_code == 403
    assert api.post(url, json={"recipients": ["a@example.com"]}, headers=headers(team, "outsider")).status_code == 404
    body = {"recipients": ["a@example.com"], "variables": {"order_id": "1"}}
    for _ in range(2):  # the refusals above did not count
        assert api.post(url, json=body, headers=editor).status_code == 202
    throttled = api.post(url, json=body, headers=editor)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # Another member has their own allowance.
    assert api.post(url, json=body, headers=headers(team, "admin")).status_code == 202
    with session_scope() as session:
        assert len(session.exec(select(OutboxEmail)).all()) == 3
