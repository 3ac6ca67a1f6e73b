"""Request dependencies: who is calling, admin checks, same-origin writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.db import session_scope
from app.errors import AuthRequired, Forbidden
from app.services.accounts import UserPublic
from app.services.api_tokens import user_for_token
from app.services.sessions import cookie_name, user_for_session
from app.settings import get_settings

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Caller:
    user: UserPublic
    via: str  # "cookie" or "token"
    session_token: str = ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


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


def optional_caller(request: Request) -> Caller | None:
    token = bearer_token(request)
    with session_scope() as session:
        if token:
            user = user_for_token(session=session, secret=token)
            if user is None:
                raise AuthRequired("That API token is not valid or was revoked.", code="invalid_token")
            return Caller(user=user, via="token")
        cookie = request.cookies.get(cookie_name(), "")
        user = user_for_session(session=session, token=cookie)
        return Caller(user=user, via="cookie", session_token=cookie) if user else None


def current_caller(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    if caller is None:
        raise AuthRequired("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    return caller


def admin_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.user.is_admin:
        raise Forbidden("This needs the admin role.")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
AdminDep = Annotated[Caller, Depends(admin_caller)]
