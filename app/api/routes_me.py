"""/api/v1/me and /api/v1/tokens: the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.deps import CallerDep, client_ip, requires
from app.api.ids import IdPath
from app.api.schemas import Message, PasswordChange, TokenCreate, TokenCreated, TokenList, TokenOut, UserOut
from app.db import session_scope
from app.services.auth import accounts, api_tokens
from app.services.auth.revocation import revoke_credentials

router = APIRouter(tags=["account"])


@router.get("/me", response_model=UserOut, dependencies=[requires("account.read")])
async def me(caller: CallerDep) -> UserOut:  # async: no database, so no thread hop
    return UserOut(**caller.user.__dict__)


@router.post("/me/password", response_model=Message, dependencies=[requires("account.manage")])
def change_password(body: PasswordChange, caller: CallerDep, request: Request) -> Message:
    with session_scope() as session:
        accounts.change_password(session=session, user_id=caller.user.id,
                                 current=body.current_password, new=body.new_password)
        # Every other session ends; the one making the change stays signed in.
        revoke_credentials(session=session, user_id=caller.user.id, reason="password changed",
                           tokens=body.revoke_tokens, keep_session_token=caller.session_token,
                           ip=client_ip(request))
    tokens = " and your API tokens revoked" if body.revoke_tokens else "; API tokens were kept"
    return Message(message=f"Password changed. Other sessions were signed out{tokens}.")


def _token_out(row) -> TokenOut:
    return TokenOut(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                    last_used_at=row.last_used_at, scopes=row.scopes.split(), workspace_id=row.workspace_id,
                    expires_at=row.expires_at)


@router.post("/tokens", status_code=201, response_model=TokenCreated, tags=["tokens"],
             dependencies=[requires("account.manage")])
def create_token(body: TokenCreate, caller: CallerDep) -> TokenCreated:
    with session_scope() as session:
        expires_at = api_tokens.expiry_of(expires_at=body.expires_at, expires_in_days=body.expires_in_days)
        row, secret = api_tokens.create_token(session=session, user_id=caller.user.id, name=body.name,
                                              scopes=body.scopes, workspace_id=body.workspace_id,
                                              expires_at=expires_at)
        out = _token_out(row)
    return TokenCreated(**out.model_dump(), token=secret)


@router.get("/tokens", response_model=TokenList, tags=["tokens"], dependencies=[requires("account.read")])
def list_tokens(caller: CallerDep) -> TokenList:
    with session_scope() as session:
        rows = api_tokens.list_tokens(session=session, user_id=caller.user.id)
        return TokenList(tokens=[_token_out(r) for r in rows])


@router.delete("/tokens/{token_id}", status_code=204, tags=["tokens"], dependencies=[requires("account.manage")])
def revoke_token(token_id: IdPath, caller: CallerDep) -> Response:
    with session_scope() as session:
        api_tokens.revoke_token(session=session, user_id=caller.user.id, token_id=token_id)
    return Response(status_code=204)
