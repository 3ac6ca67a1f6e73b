"""Structured logs: request ids, JSON lines with the ids, redaction, and the suite's secret guard."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app.observability import logs
from tests.log_guard import LogGuard, Registry


def capture(log_format: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.logs.{log_format}")
    logger.handlers[:] = [logs.make_handler(stream, log_format=log_format)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


@pytest.mark.parametrize("raw, kept", [
    ("abc-123_X.y", True), ("a" * 64, True), ("a" * 65, False), ("", False), (None, False),
    ("has space", False), ("new\nline", False), ('quote"', False), ("semi;colon", False),
])
def test_request_ids_are_plain_and_short_or_replaced(raw, kept):
    accepted = logs.accept_request_id(raw)
    assert (accepted == raw) is kept
    if not kept:
        assert len(accepted) == 32 and accepted.isalnum()


def test_json_lines_carry_the_bound_ids():
    logger, stream = capture("json")
    with logs.bound(request_id="req-1"):
        logs.identify(user_id=7, workspace_id=9)
        with logs.bound(job_id="job-5"):
            logger.info("resized %d images", 3)
        logger.warning("after the job")
    logger.info("outside")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "resized 3 images" and first["level"] == "INFO" and first["logger"] == logger.name
    assert (first["request_id"], first["user_id"], first["workspace_id"], first["job_id"]) == ("req-1", 7, 9, "job-5")
    assert "job_id" not in second and second["request_id"] == "req-1"
    assert "request_id" not in third and first["time"].endswith("+00:00")


def test_an_exception_is_one_line_too():
    logger, stream = capture("json")
    try:
        raise ValueError("bad thing with password=hunter2hunter2")
    except ValueError:
        logger.exception("it failed")
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert "ValueError" in record["exception"] and "hunter2hunter2" not in line


def test_text_is_the_readable_default():
    logger, stream = capture("text")
    with logs.bound(request_id="req-2", user_id=4):
        logger.info("hello")
    line = stream.getvalue().strip()
    assert line.endswith("INFO test.logs.text [req=req-2 user=4] hello")


def test_the_process_wide_context_reaches_threads():
    import threading

    logger, stream = capture("json")
    with logs.bound(process_wide=True, job_id="job-9", request_id="req-9"):
        thread = threading.Thread(target=lambda: logger.info("from a pool thread"))
        thread.start()
        thread.join()
    assert json.loads(stream.getvalue())["job_id"] == "job-9"
    assert logs.current("job_id") is None


@pytest.mark.parametrize("text, secret", [
    ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
    ("headers={'authorization': 'Basic dXNlcjpwYXNzd29yZA=='}", "dXNlcjpwYXNzd29yZA=="),
    ('{"email": "a@b.c", "password": "correct horse"}', "correct horse"),
    ("login password=s3cr3t-pass&next=/", "s3cr3t-pass"),
    ("token=atl_QWxhZGRpbjpvcGVuIHNlc2FtZQ_zzzzzzzzzzzzzzz", "atl_QWxhZGRpbjpvcGVuIHNlc2FtZQ"),
    ("stripe key sk_live_51HxyzABCDEFGH1234 in use", "sk_live_51HxyzABCDEFGH1234"),
    ("webhook whsec_abcdefghijklmnop checked", "whsec_abcdefghijklmnop"),
    ("Cookie: atelier_session=Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
    ("smtp_password='mail-pass-123'", "mail-pass-123"),
    ("api_key: AIzaSyA-1234567890abcdef", "AIzaSyA-1234567890abcdef"),
    ("connecting to postgresql+psycopg://atelier:pg-pass-778@db:5432/atelier", "pg-pass-778"),
    ("POST https://vision.googleapis.com/v1/images:annotate?key=AIzaSyB-0987654321", "AIzaSyB-0987654321"),
])
def test_secrets_are_redacted(text, secret):
    redacted = logs.redact(text)
    assert secret not in redacted and logs.REDACTED in redacted


def test_secret_settings_are_redacted_wherever_they_appear(monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("IMAGE_FAL_KEY", "fal-key-value-0042")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "stripe secret 77 value")  # a SecretStr setting
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_forthetestonly")
    get_settings.cache_clear()
    try:
        assert logs.redact("calling with fal-key-value-0042 now") == "calling with [redacted] now"
        assert logs.redact("key was stripe secret 77 value.") == "key was [redacted]."
    finally:
        get_settings.cache_clear()


def test_plain_lines_are_left_alone():
    line = "GET /api/v1/assets/{asset_id} 200 12.5ms: 40 images renamed, keyword tokens counted"
    assert logs.redact(line) == line


def test_the_suite_guard_catches_a_registered_secret(tmp_path):
    """The run-wide check can fail: a secret that reaches a log line is found; a redacted one is not there."""
    registry = Registry()
    registry.register("a-password-the-tests-use")
    registry.register("QWxhZGRpbjpvcGVuIHNlc2FtZQQWxhZGRpbjpvcGVuIH")  # a token's shape: 43 characters
    guard = LogGuard(tmp_path / "run.jsonl", registry)
    logger = logging.getLogger("test.logs.guard")
    logger.propagate = False
    guard.attach(logger)
    try:
        logger.info("password=a-password-the-tests-use")  # redacted by name: not a leak
        assert guard.leaks() == []
        logger.info("the user typed %s", "a-password-the-tests-use")  # no name to go by: a leak
        logger.info("ticket QWxhZGRpbjpvcGVuIHNlc2FtZQQWxhZGRpbjpvcGVuIH issued")
    finally:
        guard.detach(logger)
    leaks = guard.leaks()
    assert len(leaks) == 2 and leaks[0].startswith("a-pa…")


def test_the_guard_searches_a_server_log_too(tmp_path):
    registry = Registry()
    registry.register("Opal has 1a2b3c4d keys")
    guard = LogGuard(tmp_path / "run.jsonl", registry)
    server_log = tmp_path / "server.log"
    server_log.write_text('{"message": "signed in"}\n{"message": "form was Opal has 1a2b3c4d keys"}\n')
    guard.also.append(server_log)
    (leak,) = guard.leaks()
    guard.detach(logging.getLogger("test.logs.unused"))
    assert "server.log" in leak
