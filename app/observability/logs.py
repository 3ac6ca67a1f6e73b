"""Logging for every process: readable text or one JSON object per line, with the ids of what is going on,
and never a secret.

What a line knows comes from one context (a contextvar holding a small dict): the request id (from
`X-Request-ID` or made here), the user, the workspace and the job. The dict is shared, not copied, by the
code a request or job runs (threadpool dependencies included), so an id learnt deep inside (who the caller
is) is on every later line of that request.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

FIELDS = ("request_id", "user_id", "workspace_id", "job_id")
_context: ContextVar[dict | None] = ContextVar("atelier_log_context", default=None)

# A request id we accept from a client or a proxy: short and plain, so it cannot forge log lines or blow up
# a header. Anything else is replaced by one of ours.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REDACTED = "[redacted]"
# httpx logs every request's full URL at INFO: a provider's key can be in the query (Google), a reset or
# invitation token in the path. Their failures reach us as ProviderError, logged without the URL.
QUIET_LOGGERS = ("httpx", "httpcore")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(raw: str | None) -> str:
    """The client's X-Request-ID when it is ≤ 64 chars of [A-Za-z0-9._-], else a new one."""
    if raw and _REQUEST_ID.fullmatch(raw):
        return raw
    return new_request_id()


# A job's ids for the whole process while it runs: a worker (or work horse) runs one job at a time, and the
# threads a job starts (provider calls in a pool) do not inherit contextvars.
_process_wide: dict | None = None


def _get() -> dict | None:
    return _context.get() or _process_wide


@contextmanager
def bound(*, process_wide: bool = False, **fields) -> Iterator[dict]:
    """Log lines inside carry these ids (plus the ones already bound outside)."""
    global _process_wide
    context = {**(_get() or {}), **{k: v for k, v in fields.items() if v not in (None, "")}}
    token = _context.set(context)
    previous = _process_wide
    if process_wide:
        _process_wide = context
    try:
        yield context
    finally:
        _context.reset(token)
        if process_wide:
            _process_wide = previous


def start_event(**fields) -> None:
    """Replace the current context (a page event: no `with` block spans Reflex's preprocess and the handler)."""
    _context.set({k: v for k, v in fields.items() if v not in (None, "")})


def identify(*, user_id: int | None = None, workspace_id: int | None = None) -> None:
    """Record who is acting, for the rest of the current request, event or job."""
    context = _get()
    if context is None:
        return
    if user_id is not None:
        context["user_id"] = user_id
    if workspace_id is not None:
        context["workspace_id"] = workspace_id


def current(name: str):
    return (_get() or {}).get(name)


# Secrets as they appear in text: header and form/query/JSON fields by name, and the shapes of keys we know.
_NAMED = re.compile(
    r"""(?ix)
    (?P<key>(?:\bkey|authorization|proxy-authorization|x-api-key|api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|
          secret(?:[_-]?key|[_-]?access[_-]?key)?|client[_-]?secret|password|passwd|pwd|new_password|
          token|access[_-]?token|refresh[_-]?token|id[_-]?token|bearer|cookie|set-cookie|session|
          smtp[_-]?password|webhook[_-]?secret|stripe[_-]?(?:secret|key)|metrics[_-]?token|atelier_session)
    ["']?\s*[:=]\s*["']?)
    (?P<value>(?:bearer\s+|basic\s+)?[^\s"',;&}]+)
    """)
_SHAPES = re.compile(
    r"(?:\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9]{8,}|\batl_[A-Za-z0-9_\-]{8,}"
    r"|\bBearer\s+[A-Za-z0-9._~+/=\-]{8,}|\bBasic\s+[A-Za-z0-9+/=]{8,}"
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@))")  # user:password in a URL (database, Redis, SMTP)


_SECRET_SETTING = re.compile(r"secret|password|token|key|auth")
_secrets_of: list = [None, []]  # [the settings object they came from, the values]: get_settings() is cached


def _settings_secrets() -> list[str]:
    """Secret values from the settings: whatever a log line does with them, they leave as [redacted]."""
    try:
        from app.settings import get_settings

        settings = get_settings()
    except Exception:  # settings unreadable (a bad environment): the patterns still apply
        return []
    if _secrets_of[0] is not settings:
        found = []
        for name, value in settings.__dict__.items():
            if _SECRET_SETTING.search(name):
                for item in value if isinstance(value, list) else [value]:
                    item = item.get_secret_value() if hasattr(item, "get_secret_value") else item  # SecretStr
                    if isinstance(item, str):
                        found.append(item)
        found += [getattr(provider, "client_secret", "") for provider in settings.sso.values()]
        _secrets_of[:] = [settings, sorted({v for v in found if len(v) >= 8}, key=len, reverse=True)]
    return _secrets_of[1]


def redact(text: str) -> str:
    """The text with every secret we can recognise replaced by [redacted]."""
    if not text:
        return text
    for secret in _settings_secrets():
        text = text.replace(secret, REDACTED)
    text = _NAMED.sub(lambda m: m.group("key") + REDACTED, text)
    return _SHAPES.sub(REDACTED, text)


class ContextFilter(logging.Filter):
    """Puts the bound ids on every record (None where not known)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _get() or {}
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-06 17:02:03,123 INFO app.x [req=… user=3 ws=5] message`, secrets redacted."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{short}={getattr(record, name)}" for name, short in
                       zip(FIELDS, ("req", "user", "ws", "job"), strict=True) if getattr(record, name, None))
        record.ids = f" [{ids}]" if ids else ""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def make_handler(stream=None, *, log_format: str = "text") -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler._atelier = True  # ours: replaced, not stacked, when configured again
    return handler


def configure_logging(*, log_format: str | None = None, level: str | None = None) -> None:
    """The root logger writes through our handler (LOG_FORMAT, LOG_LEVEL); safe to call again."""
    from app.settings import get_settings

    settings = get_settings()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_atelier", False):
            root.removeHandler(handler)
    root.addHandler(make_handler(log_format=log_format or settings.log_format))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # RQ adds its own handlers only when no ancestor has one: with ours on the root its lines come through here.
    root.setLevel(level or settings.log_level)
