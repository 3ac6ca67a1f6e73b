"""Security events (network refusals, throttles, infected uploads) in the audit log — rate-limited, so a
flood from one address, or from many, cannot fill the table."""

from __future__ import annotations

import logging

from limits import parse_many
from redis.exceptions import RedisError

from app.db import session_scope
from app.services import audit, throttle
from app.settings import get_settings

# Over every address and kind: what a distributed flood can add to the table.
GLOBAL_LIMIT = "300/minute"
log = logging.getLogger(__name__)


def _allowed(kind: str, ip: str) -> bool:
    limiter = throttle._limiter()
    try:
        return (all(limiter.hit(item, "security-audit", kind, ip or "unknown")
                    for item in parse_many(get_settings().security_audit_limit))
                and all(limiter.hit(item, "security-audit-all") for item in parse_many(GLOBAL_LIMIT)))
    except (OSError, RedisError):
        return True  # without Redis the event is still worth a row; the outage itself limits the flood


def record_security_event(*, kind: str, ip: str, target: str = "", detail: str = "", actor_id: int | None = None,
                          ) -> bool:
    """Write `security.<kind>` to the audit log unless this address sent too many of this kind lately.

    Its own transaction: the refusal that caused it usually rolls the caller's work back. True when written.
    """
    if not _allowed(kind, ip):
        return False
    with session_scope() as session:
        audit.record(session=session, action=f"security.{kind}", actor_id=actor_id, target=target, ip=ip,
                     detail=detail)
    log.info("security event %s from %s on %s", kind, ip or "unknown", target)
    return True
