"""Who may create an account: SIGNUP_MODE (open | invite | domains), SIGNUP_DOMAINS, SIGNUP_APPROVAL.

One check for every way in (the sign-up form, the REST register route, single sign-on's first sign-in):
`signup_allowed(email, invitation_token)` raises a clear error or returns. The first account (the admin)
is always allowed, so a server set to `invite` can still be set up.

An invitation lets its own address in whatever the mode (that is what it is for). It does not skip
SIGNUP_APPROVAL unless a site admin sent it: any member may create a team and invite, and approval is
the site admin's gate, not a workspace owner's.
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.db import read_scope
from app.errors import Forbidden
from app.models import Invitation, User
from app.settings import get_settings


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _first_account(session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is None


def signup_allowed(email: str, invitation_token: str | None = None, *, session: Session | None = None) -> None:
    """Refuse (403 `signup_closed`, `signup_domain`) an account the policy does not let in.

    `email` should be normalised (accounts.normalise_email). With `invitation_token`, the invitation must be
    open and for this address (its own errors otherwise: invitations.open_invitation)."""
    if session is None:
        with read_scope() as own:
            return signup_allowed(email, invitation_token, session=own)
    if invitation_token:
        from app.services.workspaces.invitations import invitation_for_email

        invitation_for_email(session=session, token=invitation_token, email=email)
        return
    settings = get_settings()
    if settings.signup_mode == "open" or _first_account(session):
        return
    if settings.signup_mode == "domains":
        if _domain(email) in settings.signup_domains:
            return
        raise Forbidden(f"Sign-up here is open to addresses at {', '.join(settings.signup_domains)}, or with "
                        "an invitation.", code="signup_domain")
    raise Forbidden("Sign-up here is by invitation only. Ask a workspace owner to invite you.",
                    code="signup_closed")


def starts_pending(*, session: Session, invitation: Invitation | None, first: bool) -> bool:
    """Whether a new account waits for a site admin's approval (never the first account)."""
    if first or not get_settings().signup_approval:
        return False
    if invitation is not None and invitation.invited_by is not None:
        inviter = session.get(User, invitation.invited_by)
        if inviter is not None and inviter.role == "admin" and inviter.is_active:
            return False
    return True
