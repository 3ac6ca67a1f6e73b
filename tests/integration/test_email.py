"""Email: the outbox always, SMTP delivery by a worker when configured (real SMTP server)."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from rq import SimpleWorker
from sqlmodel import select

from app.db import session_scope
from app.models import OutboxEmail
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.auth import password_reset
from tests.integration.test_accounts import register


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(env, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    from tests.conftest import clear_caches

    clear_caches()
    yield inbox
    controller.stop()


def run_email_queue() -> None:
    SimpleWorker([get_queue("email")], connection=get_redis()).work(burst=True)


def test_without_smtp_the_reset_email_stays_in_the_outbox(env):
    register("ada@example.com")
    answer = password_reset.request_reset(email="ada@example.com", ip="10.0.0.1")
    with session_scope() as session:
        row = session.exec(select(OutboxEmail)).one()
    assert row.status == "kept" and row.to_address == "ada@example.com"
    assert "/reset/confirm?token=" in row.body_text
    assert get_queue("email").count == 0
    assert answer == password_reset.request_reset(email="nobody@example.com", ip="10.0.0.2")


def test_a_worker_sends_the_reset_email_by_smtp(smtp):
    register("ada@example.com")
    password_reset.request_reset(email="ada@example.com", ip="10.0.0.1")
    run_email_queue()
    assert len(smtp.messages) == 1
    envelope = smtp.messages[0]
    assert envelope.rcpt_tos == ["ada@example.com"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "Reset your Atelier password"
    assert "/reset/confirm?token=" in message.get_content()
    with session_scope() as session:
        row = session.exec(select(OutboxEmail)).one()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_the_link_in_the_email_resets_the_password(smtp):
    register("ada@example.com")
    password_reset.request_reset(email="ada@example.com", ip="10.0.0.1")
    run_email_queue()
    message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    body = message.get_content()
    token = body.split("/reset/confirm?token=")[1].split()[0]
    user = password_reset.complete_reset(token=token, new_password="a fresh passphrase")
    assert user.email == "ada@example.com"


def test_delivery_is_not_repeated(smtp):
    register("ada@example.com")
    password_reset.request_reset(email="ada@example.com", ip="10.0.0.1")
    run_email_queue()
    from app.services import mail

    with session_scope() as session:
        row = session.exec(select(OutboxEmail)).one()
        mail.deliver(session=session, outbox_id=row.id)
    assert len(smtp.messages) == 1


def test_an_unreachable_smtp_server_marks_the_email_failed(env, monkeypatch):
    from app.services import mail
    from tests.conftest import clear_caches

    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", "1")
    clear_caches()
    register("ada@example.com")
    with session_scope() as session:
        row = mail.write_outbox(session=session, to="ada@example.com", subject="Hi", body="Hello")
    with pytest.raises(OSError), session_scope() as session:
        mail.deliver(session=session, outbox_id=row.id)
    with session_scope() as session:
        failed = session.get(OutboxEmail, row.id)
    assert failed.status == "failed" and failed.error


def test_a_pending_email_whose_delivery_job_was_lost_is_sent_by_the_reaper(smtp):
    from datetime import timedelta

    from app.services import reaper

    register("ada@example.com")
    password_reset.request_reset(email="ada@example.com", ip="10.0.0.1")
    get_redis().flushdb()  # Redis restarted empty: the outbox row says pending, no job will send it
    assert reaper.reap_stuck(grace=timedelta(0))["outbox"] == [1]
    run_email_queue()
    with session_scope() as session:
        assert session.exec(select(OutboxEmail.status)).all() == ["sent"]
    assert len(smtp.messages) == 1
    assert reaper.reap_stuck(grace=timedelta(0))["outbox"] == []
