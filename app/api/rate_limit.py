"""The general API rate limit: fixed windows on Redis, every counter of a request in one round trip.

Buckets (settings): API_RATE_LIMIT per credential (an API token or a session cookie, by a hash of it),
API_RATE_LIMIT_ANON per address for requests without one, and API_RATE_LIMIT_ADDRESS per address over
everything, so rotating made-up tokens does not escape the address. A thumbnail a page shows (GET, PICTURE_PATH)
counts in API_RATE_LIMIT_PICTURES per credential instead of API_RATE_LIMIT (and in the address ceiling, as
everything does). Keys follow the `limits` library's
fixed-window layout (prefix "atelier-api"), so its FixedWindowRateLimiter reads and clears them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import weakref
from dataclasses import dataclass
from functools import lru_cache

import redis.asyncio as aioredis
from limits import RateLimitItem, parse_many

from app.auth_epoch import EPOCH_KEY
from app.settings import get_settings

KEY_PREFIX = "atelier-api"
# Where the guard leaves the credentials epoch it read, for the token cache (app/api/deps.py).
AUTH_EPOCH_SCOPE_KEY = "atelier.auth_epoch"
log = logging.getLogger(__name__)
# The stored thumbnails pages show by the dozen (a grid of 60, pickers): cheap reads of small files.
PICTURE_PATH = re.compile(r"/api/v1/(?:assets|templates)/\d+/thumbnail")
# One client (and its script) per event loop: an asyncio connection pool cannot be shared between loops.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the full window opens again
    bucket: str = ""  # which limit was reached: "credential", "pictures", "anonymous" or "address"
    # The credentials epoch (app/auth_epoch.py), read in the same round trip; None when Redis did not answer.
    auth_epoch: int | None = None


@lru_cache(maxsize=16)
def _items(rule: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(rule))


def credential_key(headers: dict[bytes, bytes], cookie_name: str) -> str:
    """A short hash of the bearer token or session cookie ("" without one): the secret never reaches Redis."""
    scheme, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    secret = value.strip() if scheme.lower() == "bearer" else ""
    if not secret:
        for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
            name, _, found = part.strip().partition("=")
            if name == cookie_name and found:
                secret = found
                break
    return hashlib.sha256(secret.encode()).hexdigest()[:32] if secret else ""


# Every counter of a request in one call: SET NX starts a window with its expiry, INCR counts, TTL tells how
# long the window has left. A script costs less than half the CPU of the same commands in MULTI/EXEC here.
# The last key is the credentials epoch, read in the same round trip for the token cache (app/api/deps.py).
_COUNT = """
local out = {}
for i = 1, #ARGV do
  redis.call('SET', KEYS[i], 0, 'EX', tonumber(ARGV[i]), 'NX')
  out[#out + 1] = redis.call('INCR', KEYS[i])
  out[#out + 1] = redis.call('TTL', KEYS[i])
end
out[#out + 1] = redis.call('GET', KEYS[#ARGV + 1]) or '0'
return out
"""


def _script():
    loop = asyncio.get_running_loop()
    script = _clients.get(loop)
    if script is None:
        client = aioredis.Redis.from_url(get_settings().redis_db_url(0), socket_timeout=2)
        script = client.register_script(_COUNT)
        _clients[loop] = script
    return script


async def auth_epoch() -> int | None:
    """The credentials epoch on its own (a request the guard did not count); None when Redis does not answer."""
    try:
        value = await _script().registered_client.get(EPOCH_KEY)
    except (OSError, aioredis.RedisError):
        return None
    return int(value or 0)


def buckets(*, address: str, credential: str, picture: bool = False) -> list[tuple[str, RateLimitItem, str]]:
    """(bucket name, limit, Redis key) for every counter this request adds to."""
    settings = get_settings()
    chosen = [("address", settings.api_rate_limit_address, f"address/{address}")]
    if credential and picture:
        chosen.append(("pictures", settings.api_rate_limit_pictures, f"pictures/{credential}"))
    elif credential:
        chosen.append(("credential", settings.api_rate_limit, f"credential/{credential}"))
    else:
        chosen.append(("anonymous", settings.api_rate_limit_anon, f"anonymous/{address}"))
    return [(name, item, f"{KEY_PREFIX}:{item.key_for(ident)}") for name, rule, ident in chosen
            for item in _items(rule)]


def is_picture(method: str, path: str) -> bool:
    return method == "GET" and PICTURE_PATH.fullmatch(path) is not None


async def check(*, address: str, credential: str, picture: bool = False) -> Verdict:
    """Count this request in each of its buckets (one Redis call); refused when any is past its limit.

    Redis down: allowed (logged) — the outage handlers answer for the routes that need it.
    """
    chosen = buckets(address=address or "unknown", credential=credential, picture=picture)
    try:
        replies = await _script()(keys=[key for _n, _i, key in chosen] + [EPOCH_KEY],
                                  args=[item.get_expiry() for _n, item, _k in chosen])
    except (OSError, aioredis.RedisError) as exc:
        log.warning("API rate limit skipped, Redis unavailable: %s", type(exc).__name__)
        return Verdict(True)
    worst = None
    for index, (name, item, _key) in enumerate(chosen):
        count, ttl = replies[2 * index], replies[2 * index + 1]
        if count > item.amount:
            retry = max(1, int(ttl) if ttl and ttl > 0 else item.get_expiry())
            if worst is None or retry > worst.retry_after:
                worst = Verdict(False, retry, name)
    return worst or Verdict(True, auth_epoch=int(replies[-1]))
