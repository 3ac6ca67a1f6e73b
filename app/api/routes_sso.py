"""/api/v1/auth/sso: sign in with a provider (start → provider → callback), and /api/v1/me/sso: the
caller's linked sign-in methods.

Browsers (Accept: text/html) get pages: a failed sign-in lands on the sign-in page (or Settings, when
linking) with a code the page turns into a sentence. Other clients get the usual JSON error.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel

from app import routes
from app.api.deps import CallerDep, client_ip, optional_caller, requires
from app.api.errors import error_response
from app.api.ids import IdPath
from app.api.routes_auth import set_session_cookie
from app.db import session_scope
from app.errors import AppError
from app.services import throttle
from app.services.auth import signin
from app.services.auth.sessions import cookie_name
from app.services.auth.sso import accounts as sso_accounts
from app.services.auth.sso import flow
from app.services.auth.sso.errors import SsoError
from app.services.workspaces import service as workspaces
from app.settings import get_settings

router = APIRouter(tags=["auth"])


class ProviderOut(BaseModel):
    name: str
    label: str
    kind: str
    start_url: str


class IdentityOut(BaseModel):
    id: int
    provider: str
    label: str
    email: str
    created_at: str
    last_used_at: str | None


class SignInMethods(BaseModel):
    has_password: bool
    identities: list[IdentityOut]


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _browser_cookie(response: Response, value: str) -> None:
    settings = get_settings()
    response.set_cookie(flow.BROWSER_COOKIE, value, max_age=settings.sso_state_ttl_seconds, path="/api/v1/auth/sso",
                        httponly=True, samesite="lax", secure=settings.is_https)


def _failed(request: Request, exc: AppError, *, to_settings: bool = False) -> Response:
    if _wants_html(request):
        page = routes.SETTINGS if to_settings else routes.SIGN_IN
        return RedirectResponse(f"{page}?{urlencode({'sso_error': exc.code})}", status_code=303)
    return error_response(exc.status, exc.code, exc.message)


@router.get("/auth/sso/providers", response_model=list[ProviderOut])
def list_providers() -> list[ProviderOut]:
    """The sign-in providers configured on this server, for a sign-in page."""
    return [ProviderOut(name=p.name, label=p.label, kind=p.kind, start_url=routes.sso_start_url(p.name))
            for p in get_settings().sso.values()]


@router.get("/auth/sso/{provider}/start", include_in_schema=False)
def start(provider: str, request: Request, next: str = "", link: int = 0) -> Response:
    """Send the browser to the provider. `link=1` links the provider to the signed-in account instead."""
    link_user_id = None
    try:
        throttle.hit(rule=get_settings().signin_limit_per_ip, scope="sso-ip", key=client_ip(request) or "unknown")
        if link:
            caller = optional_caller(request)
            if caller is None or caller.via != "cookie":
                raise SsoError("sso_link_session", status=401)
            link_user_id = caller.user.id
        browser_id = request.cookies.get(flow.BROWSER_COOKIE, "")[:64] or flow.new_browser_id()
        url = flow.begin(name=provider, browser_id=browser_id, next_path=next[:300], link_user_id=link_user_id)
    except AppError as exc:
        return _failed(request, exc, to_settings=bool(link))
    response = RedirectResponse(url, status_code=303)
    _browser_cookie(response, browser_id)
    return response


@router.get("/auth/sso/{provider}/callback", include_in_schema=False)
def callback(provider: str, request: Request) -> Response:
    """The provider sends the browser back here with `code` and `state` (or `error`)."""
    params = {k: v[:4096] for k, v in request.query_params.items()}
    caller = optional_caller(request) if request.cookies.get(cookie_name()) else None
    ip = client_ip(request)
    try:
        done = flow.finish(name=provider, params=params, browser_id=request.cookies.get(flow.BROWSER_COOKIE, ""),
                           session_user_id=caller.user.id if caller and caller.via == "cookie" else None, ip=ip)
    except AppError as exc:
        return _failed(request, exc, to_settings=caller is not None)
    if done.mode == "link":
        response = RedirectResponse(f"{routes.SETTINGS}?{urlencode({'sso_linked': provider})}", status_code=303)
    else:
        token = signin.start_session(user_id=done.user_id, ip=ip, user_agent=request.headers.get("user-agent", ""),
                                     old_token=request.cookies.get(cookie_name(), ""))
        if done.workspace_id:
            # The claim gave them a role in the team workspace: that is where they land.
            with session_scope() as session:
                workspaces.switch(session=session, session_token=token, user_id=done.user_id,
                                  workspace_id=done.workspace_id)
        if _wants_html(request):
            response = RedirectResponse(done.next_path, status_code=303)
        else:
            response = JSONResponse({"user_id": done.user_id, "next": done.next_path,
                                     "workspace_id": done.workspace_id})
        set_session_cookie(response, token)
    response.delete_cookie(flow.BROWSER_COOKIE, path="/api/v1/auth/sso", secure=get_settings().is_https,
                           httponly=True, samesite="lax")
    return response


def _methods(user_id: int) -> SignInMethods:
    providers = get_settings().sso
    with session_scope() as session:
        rows = sso_accounts.identities_of(session=session, user_id=user_id)
        has_password = sso_accounts.has_password(session=session, user_id=user_id)
    return SignInMethods(has_password=has_password, identities=[IdentityOut(
        id=r.id, provider=r.provider, label=providers[r.provider].label if r.provider in providers else r.provider,
        email=r.email, created_at=r.created_at.isoformat(),
        last_used_at=r.last_used_at.isoformat() if r.last_used_at else None) for r in rows])


@router.get("/me/sso", response_model=SignInMethods, tags=["account"], dependencies=[requires("account.read")])
def my_methods(caller: CallerDep) -> SignInMethods:
    return _methods(caller.user.id)


@router.delete("/me/sso/{identity_id}", response_model=SignInMethods, tags=["account"],
               dependencies=[requires("account.manage")])
def unlink(identity_id: IdPath, caller: CallerDep, request: Request) -> SignInMethods:
    """Unlink a provider account; refused (409 sso_last_method) when it is the last way in."""
    with session_scope() as session:
        sso_accounts.unlink(session=session, user_id=caller.user.id, identity_id=identity_id, ip=client_ip(request))
    return _methods(caller.user.id)
