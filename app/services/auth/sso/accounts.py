"""Which Atelier user a provider's sign-in is: an identity already linked, a link by verified email, a new
account (under the sign-up policy), or an explicit link from Settings. Plus unlinking and listing.

Rules:
- A known (provider, subject) is that user, whatever email it now carries.
- Otherwise an email the provider says is verified links to the account with that email (audit
  sso.linked); an unverified email never links and never makes an account (the person signs in with
  their password and links from Settings).
- Disabled and pending accounts get nothing: no link, no session.
- An account made by sign-on has no usable password (passwords.UNUSABLE_PASSWORD) until its owner
  sets one through a password reset; unlinking refuses to remove the last way in.
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.errors import ValidationFailed
from app.models import Invitation, SsoIdentity, User, utcnow
from app.services import audit
from app.services.auth.accounts import normalise_email
from app.services.auth.passwords import UNUSABLE_PASSWORD, has_usable_password
from app.services.auth.sso.errors import SsoError
from app.services.auth.sso.protocol import ProviderUser
from app.settings import get_settings
from app.settings_sso import SsoProvider


def check_signup(*, session: Session, email: str) -> None:
    """The sign-up policy for a new account made by sign-on.

    SIGNUP_MODE (open | invite | domains) and SIGNUP_DOMAINS as for the sign-up form
    (app.services.auth.signup_policy); in `invite` mode a live invitation for the provider-verified address lets
    the person in (they come through the provider, not the link).
    """
    settings = get_settings()
    mode = settings.signup_mode
    if mode == "invite":
        live = session.exec(select(Invitation.id).where(
            func.lower(Invitation.email) == email, col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None), Invitation.expires_at > utcnow())).first()
        if live is None:
            raise SsoError("sso_signup_closed", status=403)
    elif mode == "domains":
        allowed = set(settings.signup_domains)
        if email.rsplit("@", 1)[-1] not in allowed:
            raise SsoError("sso_signup_domain", status=403)


def _clean_name(name: str) -> str:
    return " ".join("".join(ch for ch in (name or "") if ord(ch) >= 32).split())[:120]


def _create_user(*, session: Session, provider: SsoProvider, who: ProviderUser, email: str, ip: str) -> User:
    check_signup(session=session, email=email)
    pending = get_settings().signup_approval
    user = User(email=email, name=_clean_name(who.name), password_hash=UNUSABLE_PASSWORD, pending=pending)
    session.add(user)
    session.flush()
    # As accounts.register_user: the first account becomes admin (and is never left pending).
    session.execute(update(User).where(col(User.id) == user.id)
                    .where(col(User.id) == select(func.min(User.id)).scalar_subquery())
                    .values(role="admin", pending=False))
    session.refresh(user)
    from app.services.workspaces import service as workspaces

    workspaces.create_personal(session=session, user=user)
    audit.record(session=session, action="sso.user_created", actor_id=user.id, target=email, ip=ip,
                 detail=f"provider={provider.name}")
    return user


def _check_may_enter(user: User) -> None:
    if not user.is_active:
        raise SsoError("sso_account_disabled", status=403)
    if user.pending:
        raise SsoError("sso_account_pending", status=403)


def _email_of(who: ProviderUser) -> str:
    if not who.email:
        return ""
    try:
        return normalise_email(who.email)
    except ValidationFailed:
        return ""


def _identity(session: Session, provider: SsoProvider, subject: str) -> SsoIdentity | None:
    return session.exec(select(SsoIdentity).where(SsoIdentity.provider == provider.name,
                                                  SsoIdentity.subject == subject)).first()


def resolve_user(*, session: Session, provider: SsoProvider, who: ProviderUser, ip: str) -> User:
    """The user this sign-in is, linking or creating as the rules allow. Raises SsoError, creating nothing."""
    identity = _identity(session, provider, who.subject)
    if identity is not None:
        user = session.get(User, identity.user_id)
        if user is None:
            raise SsoError("sso_account_disabled", status=403, detail="identity without a user")
        _check_may_enter(user)
        identity.last_used_at = utcnow()
        if who.email and who.email_verified:
            identity.email = who.email[:254]
        session.add(identity)
        return user
    email = _email_of(who)
    if not email:
        raise SsoError("sso_no_email", status=403)
    if not who.email_verified:
        raise SsoError("sso_email_unverified", status=403, detail=email)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None:
        _check_may_enter(user)
        audit.record(session=session, action="sso.linked", actor_id=user.id, target=email, ip=ip,
                     detail=f"provider={provider.name}; by verified email")
    else:
        # A new account under sign-up approval is kept (pending) for an admin; the caller refuses the session.
        user = _create_user(session=session, provider=provider, who=who, email=email, ip=ip)
    session.add(SsoIdentity(user_id=user.id, provider=provider.name, subject=who.subject[:255],
                            email=email, last_used_at=utcnow()))
    session.flush()
    return user


def link_identity(*, session: Session, provider: SsoProvider, who: ProviderUser, user_id: int, ip: str) -> bool:
    """Link a provider account to a signed-in user (explicit, from Settings). False when already linked to them."""
    identity = _identity(session, provider, who.subject)
    if identity is not None:
        if identity.user_id != user_id:
            raise SsoError("sso_already_linked", status=409)
        return False
    user = session.get(User, user_id)
    if user is None:
        raise SsoError("sso_link_session", status=401)
    _check_may_enter(user)
    session.add(SsoIdentity(user_id=user_id, provider=provider.name, subject=who.subject[:255],
                            email=_email_of(who), last_used_at=utcnow()))
    audit.record(session=session, action="sso.linked", actor_id=user_id, target=user.email, ip=ip,
                 detail=f"provider={provider.name}; from settings")
    session.flush()
    return True


def identities_of(*, session: Session, user_id: int) -> list[SsoIdentity]:
    return list(session.exec(select(SsoIdentity).where(SsoIdentity.user_id == user_id)
                             .order_by(col(SsoIdentity.provider), col(SsoIdentity.id))))


def has_password(*, session: Session, user_id: int) -> bool:
    user = session.get(User, user_id)
    return user is not None and has_usable_password(user.password_hash)


def unlink(*, session: Session, user_id: int, identity_id: int, ip: str = "") -> SsoIdentity:
    """Remove one linked sign-in method, never the last way in (no password and no other identity)."""
    identity = session.get(SsoIdentity, identity_id)
    if identity is None or identity.user_id != user_id:
        raise SsoError("sso_not_linked", status=404)
    others = [i for i in identities_of(session=session, user_id=user_id) if i.id != identity_id]
    configured = get_settings().sso
    # An identity of a provider no longer configured is no way in.
    usable = [i for i in others if i.provider in configured]
    if not usable and not has_password(session=session, user_id=user_id):
        raise SsoError("sso_last_method", status=409)
    session.delete(identity)
    user = session.get(User, user_id)
    audit.record(session=session, action="sso.unlinked", actor_id=user_id, target=user.email if user else "",
                 ip=ip, detail=f"provider={identity.provider}")
    return identity
