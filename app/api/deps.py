"""Request dependencies: who is calling, in which workspace, role and scope checks, same-origin writes."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.api import rate_limit
from app.api.client_address import address_from_scope
from app.db import read_scope
from app.errors import AuthRequired, Forbidden, NotFound, ValidationFailed
from app.observability import logs
from app.services.auth import api_tokens, sessions, token_cache
from app.services.auth.accounts import UserPublic
from app.services.auth.sessions import cookie_name
from app.services.secrets import token_digest
from app.services.workspaces import permissions
from app.services.workspaces.service import role_in
from app.settings import get_settings

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# A browser script or the UI addresses another of the user's workspaces per request with this header.
WORKSPACE_HEADER = "x-workspace"


@dataclass(frozen=True)
class Caller:
    user: UserPublic
    via: str  # "cookie" or "token"
    session_token: str = ""


def client_ip(request: Request) -> str:
    # The real client behind trusted proxies (TRUSTED_PROXIES), never a header a client wrote itself.
    return address_from_scope(request.scope)


def bearer_token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def origin_is_allowed(origin: str) -> bool:
    return origin.rstrip("/") in get_settings().allowed_origins


# Sec-Fetch-Site values a browser sends for our own pages and for what the user typed or bookmarked.
OWN_FETCH_SITES = {"same-origin", "none"}


def check_origin(request: Request) -> None:
    """Refuse a browser write that comes from another site (CSRF), unless it uses a bearer token.

    With an Origin header, the allowed origins decide. A write carrying the session cookie but no
    Origin must show Sec-Fetch-Site same-origin/none: every browser that omits Origin sends it,
    so a write with neither header is not shown to come from our pages and is refused.
    """
    if request.method not in UNSAFE_METHODS or bearer_token(request):
        return
    origin = request.headers.get("origin")
    if origin is not None:
        if not origin_is_allowed(origin):
            raise Forbidden("This request came from another site and was refused.", code="foreign_origin")
        return
    if not request.cookies.get(cookie_name()):
        return  # no cookie, no ambient authority to abuse: the route asks for credentials
    site = request.headers.get("sec-fetch-site")
    if site is None:
        raise Forbidden("A signed-in write needs an Origin or Sec-Fetch-Site header; scripts should "
                        "use an API token.", code="origin_unverified")
    if site.lower() not in OWN_FETCH_SITES:
        raise Forbidden("This request came from another site and was refused.", code="foreign_origin")


async def same_site_writes(request: Request) -> None:
    """check_origin as the API's router dependency. async because it is pure and instant: FastAPI runs a sync
    dependency through a thread hop, which every request to /api/v1 paid (reads and writes alike)."""
    check_origin(request)


def requested_workspace(request: Request) -> int | None:
    raw = request.headers.get(WORKSPACE_HEADER)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise ValidationFailed("The X-Workspace header must be a workspace id (a positive whole number).",
                               code="invalid_workspace_header")
    return int(raw)


def optional_caller(request: Request, epoch: int | None = None) -> Caller | None:
    """Who is calling, from the database (blocking). `epoch`: the credentials epoch read before, to cache a
    resolved bearer token under."""
    caller = _resolve_caller(request, epoch)
    if caller is not None:  # on the request's log lines from here on
        logs.identify(user_id=caller.user.id, workspace_id=caller.user.workspace_id)
    return caller


def _token_caller(user: UserPublic, wanted: int | None) -> Caller:
    if wanted is not None and wanted != user.workspace_id:
        raise Forbidden(f"This API token is bound to workspace {user.workspace_id}; it cannot act in "
                        f"workspace {wanted}. Use a token made for that workspace.",
                        code="token_workspace_mismatch")
    return Caller(user=user, via="token")


def _resolve_caller(request: Request, epoch: int | None) -> Caller | None:
    # Read-only transactions: on SQLite every request took the write lock here, so reads queued behind each
    # other and behind every write (bench/web_load.py); the rare writes of a lookup go in their own.
    token = bearer_token(request)
    wanted = requested_workspace(request)
    if token:
        user = api_tokens.current_user(secret=token, epoch=epoch)
        if user is None:
            raise AuthRequired("That API token is not valid or was revoked.", code="invalid_token")
        return _token_caller(user, wanted)
    cookie = request.cookies.get(cookie_name(), "")
    user = sessions.current_user(cookie)
    if user is None:
        return None
    if wanted is not None and wanted != user.workspace_id:
        with read_scope() as session:
            role = role_in(session=session, workspace_id=wanted, user_id=user.id)
        if role is None:
            # A workspace the user is not in answers like one that does not exist.
            raise NotFound("No such workspace.", code="workspace_not_found")
        user = dataclasses.replace(user, workspace_id=wanted, workspace_role=role)
    return Caller(user=user, via="cookie", session_token=cookie)


async def request_caller(request: Request) -> Caller | None:
    """`optional_caller` for routes: a bearer token resolved in this credentials epoch comes from the token
    cache in the event loop; anything else goes to the database in the thread pool (and fills the cache)."""
    token = bearer_token(request)
    epoch = None
    if token.startswith(api_tokens.TOKEN_PREFIX):
        epoch = request.scope.get(rate_limit.AUTH_EPOCH_SCOPE_KEY)
        if epoch is None:  # not counted by the guard (its Redis did not answer, or an app without it)
            epoch = await rate_limit.auth_epoch()
        user = token_cache.get(token_digest(token), epoch) if epoch is not None else None
        if user is not None:
            caller = _token_caller(user, requested_workspace(request))
            logs.identify(user_id=user.id, workspace_id=user.workspace_id)
            return caller
    return await run_in_threadpool(optional_caller, request, epoch)


# async: pure, so FastAPI calls them in the event loop rather than through a thread hop each.
async def current_caller(caller: Annotated[Caller | None, Depends(request_caller)]) -> Caller:
    if caller is None:
        raise AuthRequired("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    return caller


async def admin_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    # The site role (admin pages), not the workspace role; a scoped token needs the admin scope too.
    if not caller.user.is_admin:
        raise Forbidden("This needs the admin role.")
    if caller.user.scopes is not None and "admin" not in caller.user.scopes:
        raise Forbidden("This API token's scopes do not cover that (it needs 'admin').", code="insufficient_scope")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
AdminDep = Annotated[Caller, Depends(admin_caller)]


def in_thread_pool(route):
    """A blocking route made async, its body run in the thread pool: one hop per request. Left sync, FastAPI
    makes two — the route, then its response validated in another (with 64 clients on 2 cores the requests
    queue for the pool's threads; bench/web_load.py)."""

    @functools.wraps(route)
    async def run(*args, **kwargs):
        return await run_in_threadpool(route, *args, **kwargs)

    return run


@functools.cache
def requires(action: str):
    """`dependencies=[requires("assets.write")]`: the route declares the matrix action it needs.

    403 `role_forbidden` / `insufficient_scope` before the body is read. The action is kept on the
    dependency (`.action`), so the route × role test reads what each route declares.
    """
    if action not in permissions.ACTIONS:
        raise KeyError(f"{action!r} is not in the permission matrix")  # at import: a typo never ships

    # async: pure and instant, so FastAPI runs it in the event loop instead of a threadpool hop (a sync
    # dependency costs a thread switch, ~10 % of a small read on a loaded machine; bench/auth_read.py).
    async def check(caller: CallerDep) -> None:
        caller.user.require(action)

    check.action = action  # type: ignore[attr-defined]
    check.__name__ = f"requires_{action.replace('.', '_')}"
    return Depends(check)


def declared_action(route) -> str | None:
    """The matrix action a route declared with `requires(...)`, or None."""
    for dep in route.dependant.dependencies:
        action = getattr(dep.call, "action", None)
        if action:
            return action
    return None
