"""The invitation page: what the link invites to, and joining (signed in) or the way to sign in / sign up."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.ids import parse_id
from app.services.workspaces import invitations, permissions
from app.services.workspaces import service as workspaces
from state.session import client_ip, cookie_token, full_page_load, visitor


class InviteState(rx.State):
    # open: can be accepted; closed: expired, used, revoked or unknown (`problem` says which); "" while loading.
    status: str = ""
    problem: str = ""
    # What the invitation offers: workspace, role, role_label, role_help, inviter, email, expires, has_account.
    offer: dict[str, str] = {}
    # Signed in with another address than the invitation's: why the button is not there.
    other_email: str = ""
    _token: str = ""

    @rx.var
    def sign_in_href(self) -> str:
        return routes.sign_in_url(routes.invite_url(self._token)) if self._token else routes.SIGN_IN

    @rx.var
    def sign_up_href(self) -> str:
        return routes.sign_up_url(routes.invite_url(self._token)) if self._token else routes.SIGN_UP

    @rx.event
    async def load_page(self):
        params = self.router.url.query_parameters
        user = await visitor(self)  # None is fine: the page is public
        self.status, self.problem, self.offer, self.other_email = "", "", {}, ""
        joined = parse_id(params.get("joined", ""))
        if joined and user is not None:
            # Back from signing up through the link (the account joined as it was made): act in the team.
            return self._enter(user.id, joined)
        self._token = str(params.get("token", ""))[:invitations.MAX_TOKEN + 1]
        try:
            with read_scope() as session:
                offer = invitations.preview(session=session, token=self._token)
        except AppError as exc:
            self.status, self.problem = "closed", exc.message
            return
        self.offer = {"workspace": offer["workspace_name"], "role": offer["role"], "role_label": offer["role_label"],
                      "role_help": permissions.ROLE_HELP.get(offer["role"], ""),
                      "inviter": offer["inviter"], "email": offer["email"],
                      "expires": offer["expires_at"].strftime("%Y-%m-%d %H:%M UTC"),
                      "has_account": "yes" if offer["has_account"] else ""}
        if user is not None and user.email != offer["email"]:
            self.other_email = (f"This invitation is for {offer['email']}, and you are signed in as {user.email}. "
                                "Sign out, then sign in or create an account with the invited address.")
        self.status = "open"

    def _enter(self, user_id: int, workspace_id: int):
        try:
            with session_scope() as session:
                workspaces.switch(session=session, session_token=cookie_token(self), user_id=user_id,
                                  workspace_id=workspace_id)
        except AppError:
            pass  # not (or no longer) a member: the dashboard of where they act already
        return full_page_load(routes.DASHBOARD)

    @rx.event
    async def accept(self):
        user = await visitor(self)
        if user is None:  # to sign in, and back to this invitation (its token is not in the page's path)
            return rx.redirect(routes.sign_in_url(routes.invite_url(self._token)))
        try:
            with session_scope() as session:
                membership = invitations.accept(session=session, token=self._token, user=user, ip=client_ip(self))
                workspace_id = membership.workspace_id
        except AppError as exc:
            self.status, self.problem = "closed", exc.message
            return
        return self._enter(user.id, workspace_id)
