"""/api/v1/auth: register, sign in and out, password reset, and the cookie hand-off."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from app.api.deps import Caller, client_ip, optional_caller
from app.api.schemas import Credentials, Message, Registration, ResetConfirm, ResetRequest, UserOut
from app.db import session_scope
from app.services import throttle
from app.services.auth import accounts, password_reset, signin
from app.services.auth.sessions import cookie_name, cookie_params, redeem_ticket
from app.settings import get_settings

router = APIRouter(prefix="/auth", tags=["auth"])


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(cookie_name(), token, **cookie_params())


def clear_session_cookie(response: Response) -> None:
    params = cookie_params()
    response.delete_cookie(cookie_name(), path="/", secure=params["secure"], httponly=True,
                           samesite="lax")


@router.post("/register", status_code=201, response_model=UserOut)
def register(body: Registration, request: Request) -> UserOut:
    throttle.hit(rule=get_settings().register_limit_per_ip, scope="register-ip",
                 key=client_ip(request) or "unknown")
    with session_scope() as session:
        user = accounts.register_user(session=session, email=body.email, password=body.password,
                                      name=body.name, invitation_token=body.invitation_token)
    return UserOut(**user.__dict__)


@router.post("/login", response_model=UserOut)
def login(body: Credentials, request: Request, response: Response) -> UserOut:
    ip = client_ip(request)
    user = signin.check_credentials(email=body.email, password=body.password, ip=ip)
    token = signin.start_session(user_id=user.id, ip=ip,
                                 user_agent=request.headers.get("user-agent", ""),
                                 old_token=request.cookies.get(cookie_name(), ""))
    set_session_cookie(response, token)
    return UserOut(**user.__dict__)


@router.post("/logout", response_model=Message)
def logout(request: Request, response: Response) -> Message:
    caller: Caller | None = optional_caller(request)
    signin.end_session(token=request.cookies.get(cookie_name(), ""),
                       user_id=caller.user.id if caller else None, ip=client_ip(request))
    clear_session_cookie(response)
    return Message(message="Signed out.")


@router.post("/password-reset", response_model=Message, status_code=202)
def request_reset(body: ResetRequest, request: Request) -> Message:
    return Message(message=password_reset.request_reset(email=body.email, ip=client_ip(request)))


@router.post("/password-reset/confirm", response_model=Message)
def confirm_reset(body: ResetConfirm) -> Message:
    password_reset.complete_reset(token=body.token, new_password=body.new_password)
    return Message(message="Your password was changed. Sign in with the new one.")


@router.get("/complete", include_in_schema=False)
def complete_sign_in(request: Request, ticket: str = "") -> RedirectResponse:
    """Trade a one-time ticket from the sign-in page for an HttpOnly session cookie."""
    redeemed = redeem_ticket(ticket[:200])
    if redeemed is None:
        return RedirectResponse("/signin?expired=1", status_code=303)
    user_id, next_path = redeemed
    token = signin.start_session(user_id=user_id, ip=client_ip(request),
                                 user_agent=request.headers.get("user-agent", ""),
                                 old_token=request.cookies.get(cookie_name(), ""))
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, token)
    return response


@router.get("/signed-out", include_in_schema=False)
def signed_out() -> RedirectResponse:
    """Where the UI lands after signing out: the session is already revoked; drop the cookie."""
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    clear_session_cookie(response)
    return response
