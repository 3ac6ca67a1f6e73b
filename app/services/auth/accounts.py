"""Accounts: registration, credentials, roles, password changes and resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, update
from sqlmodel import Session, col, or_, select

from app.errors import Conflict, Forbidden, InvalidCredentials, NotFound, ValidationFailed
from app.models import PasswordReset, User, utcnow
from app.services import audit
from app.services.auth.passwords import hash_password, needs_rehash, verify_password
from app.services.secrets import new_token, token_digest
from app.services.workspaces import permissions
from app.settings import get_settings

ROLES = ("admin", "member")
MAX_PASSWORD = 256


@dataclass(frozen=True)
class UserPublic:
    """What the UI and the API may show about a user, and where this request acts.

    `role` is the site role (admin | member: the admin pages). `workspace_id`/`workspace_role` are the
    workspace this session or token acts in and the user's role there (app.services.workspaces); work is
    owned by `workspace_id`, and `can`/`require` ask the one permission matrix. `of()` gives the personal
    workspace; sessions and tokens replace it with the one they are bound to (workspaces.acting).
    """

    id: int
    email: str
    name: str
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    workspace_id: int = 0
    workspace_role: str = ""
    # A scoped API token's scopes; None for a browser session or a full-access token.
    scopes: tuple[str, ...] | None = None
    # Signed up while SIGNUP_APPROVAL is on and not approved yet: cannot sign in.
    pending: bool = False

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(id=user.id or 0, email=user.email, name=user.name, role=user.role,
                   is_active=user.is_active, created_at=user.created_at,
                   last_login_at=user.last_login_at,
                   workspace_id=user.personal_workspace_id or 0, workspace_role="owner", pending=user.pending)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can(self, action: str) -> bool:
        return permissions.allowed(self.workspace_role, action) and permissions.scope_allows(self.scopes, action)

    def require(self, action: str) -> None:
        """Refuse (403) what the role or the token's scopes do not allow in this workspace."""
        if not permissions.scope_allows(self.scopes, action):
            raise Forbidden(f"This API token's scopes do not cover that (it needs "
                            f"'{permissions.scope_for(action)}').", code="insufficient_scope")
        if not permissions.allowed(self.workspace_role, action):
            label = permissions.ROLE_LABELS.get(self.workspace_role, self.workspace_role or "no role")
            raise Forbidden(f"Your role in this workspace ({label}) does not allow that.", code="role_forbidden")


def normalise_email(email: str) -> str:
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"That email address is not valid: {exc}", code="invalid_email") from exc
    return result.normalized.lower()


def check_password_rules(password: str, *, email: str = "") -> None:
    minimum = get_settings().password_min_length
    if len(password or "") < minimum:
        raise ValidationFailed(f"Use a password of at least {minimum} characters.", code="weak_password")
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed(f"Use a password of at most {MAX_PASSWORD} characters.", code="weak_password")
    if email and password.strip().lower() == email.lower():
        raise ValidationFailed("Your password may not be your email address.", code="weak_password")
    if len(set(password)) < 4:
        raise ValidationFailed("That password is too easy to guess.", code="weak_password")


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if len(name) > 120:
        raise ValidationFailed("Names are limited to 120 characters.", code="invalid_name")
    if any(ord(ch) < 32 for ch in name):
        raise ValidationFailed("Names may not contain control characters.", code="invalid_name")
    return name


def register_user(*, session: Session, email: str, password: str, name: str = "",
                  invitation_token: str | None = None) -> UserPublic:
    """Create an account under the sign-up policy (app.services.auth.signup_policy).

    With `invitation_token` (an open invitation for this address) the account may be made whatever
    SIGNUP_MODE says, and joins the invitation's workspace with its role. With SIGNUP_APPROVAL the account
    starts `pending` (no sign-in until a site admin approves) unless it is the first, or a site admin invited it.
    """
    from app.services.auth import signup_policy
    from app.services.workspaces import invitations
    from app.services.workspaces import service as workspaces  # it imports this module

    email = normalise_email(email)
    check_password_rules(password, email=email)
    signup_policy.signup_allowed(email, invitation_token, session=session)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("An account with this email already exists. Sign in instead.",
                       code="email_taken")
    invitation = invitations.invitation_for_email(session=session, token=invitation_token, email=email) \
        if invitation_token else None
    user = User(email=email, name=clean_name(name), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    # The first account becomes admin; taking the smallest id keeps this right under races.
    session.execute(
        update(User).where(col(User.id) == user.id)
        .where(col(User.id) == select(func.min(User.id)).scalar_subquery())
        .values(role="admin")
    )
    session.refresh(user)
    if signup_policy.starts_pending(session=session, invitation=invitation, first=user.role == "admin"):
        user.pending = True
        session.add(user)
    workspaces.create_personal(session=session, user=user)
    audit.record(session=session, action="user.registered", actor_id=user.id, target=email,
                 detail="pending approval" if user.pending else "")
    if invitation is not None:
        invitations.join(session=session, row=invitation, user_id=user.id)
    return UserPublic.of(user)


def authenticate(*, session: Session, email: str, password: str) -> UserPublic:
    """Check credentials. Every failure gives the same error and costs the same time."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        email = ""
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        raise InvalidCredentials("That email and password do not match an active account.")
    if user.pending:  # said only to someone who knows the password
        raise Forbidden("Your account is waiting for an admin's approval. You can sign in once it is approved.",
                        code="approval_pending")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return UserPublic.of(user)  # last_login_at is stamped when the session starts (sessions.create_session)


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def update_profile(*, session: Session, user_id: int, name: str) -> UserPublic:
    user = get_user(session=session, user_id=user_id)
    user.name = clean_name(name)
    session.add(user)
    return UserPublic.of(user)


def change_password(*, session: Session, user_id: int, current: str, new: str) -> None:
    """Change a password; the caller revokes the user's other sessions."""
    user = get_user(session=session, user_id=user_id)
    if not verify_password(user.password_hash, current or ""):
        raise InvalidCredentials("Your current password is not right.", code="wrong_password")
    check_password_rules(new, email=user.email)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    session.add(user)
    audit.record(session=session, action="user.password_changed", actor_id=user.id, target=user.email)


def start_password_reset(*, session: Session, email: str) -> tuple[User, str] | None:
    """Make a reset token for an active account, or None. Callers answer the same either way."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        return None
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None or not user.is_active:
        return None
    token = new_token()
    ttl = timedelta(minutes=get_settings().reset_ttl_minutes)
    session.add(PasswordReset(user_id=user.id, token_hash=token_digest(token),
                              expires_at=utcnow() + ttl))
    return user, token


def finish_password_reset(*, session: Session, token: str, new: str) -> UserPublic:
    """Set a new password from a reset token; single use, and it expires."""
    row = session.exec(
        select(PasswordReset).where(PasswordReset.token_hash == token_digest(token or ""))
    ).first()
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        raise ValidationFailed("This reset link is invalid or has expired. Ask for a new one.",
                               code="invalid_reset_token")
    user = get_user(session=session, user_id=row.user_id)
    check_password_rules(new, email=user.email)
    # Claim the token atomically so two submissions cannot both use it.
    claimed = session.execute(
        update(PasswordReset).where(col(PasswordReset.id) == row.id)
        .where(col(PasswordReset.used_at).is_(None)).values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise ValidationFailed("This reset link was already used.", code="invalid_reset_token")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    session.add(user)
    audit.record(session=session, action="user.password_reset", actor_id=user.id, target=user.email)
    return UserPublic.of(user)


def search_users(*, session: Session, query: str = "", limit: int = 50, offset: int = 0
                 ) -> tuple[list[UserPublic], int]:
    stmt = select(User)
    count = select(func.count()).select_from(User)
    query = (query or "").strip()[:100]
    if query:
        like = f"%{query.lower()}%"
        cond = or_(func.lower(User.email).like(like), func.lower(User.name).like(like))
        stmt, count = stmt.where(cond), count.where(cond)
    rows = session.exec(stmt.order_by(col(User.id)).limit(limit).offset(offset))
    return [UserPublic.of(u) for u in rows], session.exec(count).one()


def _other_active_admins(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(User)
        .where(User.role == "admin", col(User.is_active).is_(True), User.id != user_id)
    ).one()


def set_role(*, session: Session, actor_id: int, user_id: int, role: str, ip: str = "") -> UserPublic:
    if role not in ROLES:
        raise ValidationFailed(f"Role must be one of: {', '.join(ROLES)}.", code="invalid_role")
    user = get_user(session=session, user_id=user_id)
    if user.role == "admin" and role != "admin" and _other_active_admins(session, user.id) == 0:
        raise Forbidden("Atelier needs at least one active admin.", code="last_admin")
    user.role = role
    session.add(user)
    audit.record(session=session, action="admin.set_role", actor_id=actor_id, target=user.email,
                 ip=ip, detail=role)
    return UserPublic.of(user)


def set_active(*, session: Session, actor_id: int, user_id: int, active: bool, ip: str = "") -> UserPublic:
    user = get_user(session=session, user_id=user_id)
    if not active and user.role == "admin" and _other_active_admins(session, user.id) == 0:
        raise Forbidden("Atelier needs at least one active admin.", code="last_admin")
    user.is_active = active
    session.add(user)
    audit.record(session=session, action="admin.enable_user" if active else "admin.disable_user",
                 actor_id=actor_id, target=user.email, ip=ip)
    if not active:
        # Imported here: revocation → sessions → accounts would be a cycle at import time.
        from app.services.auth.revocation import revoke_credentials

        revoke_credentials(session=session, user_id=user.id, reason="account disabled", actor_id=actor_id, ip=ip)
    return UserPublic.of(user)



def list_pending(*, session: Session, limit: int = 200) -> list[UserPublic]:
    """Accounts waiting for approval (SIGNUP_APPROVAL), oldest first."""
    rows = session.exec(select(User).where(col(User.pending).is_(True)).order_by(col(User.id)).limit(limit))
    return [UserPublic.of(u) for u in rows]


def approve_user(*, session: Session, actor_id: int, user_id: int, ip: str = "") -> UserPublic:
    """Let a pending account sign in. Approving one that is not pending is a 409 `not_pending`."""
    user = get_user(session=session, user_id=user_id)
    if not user.pending:
        raise Conflict("This account is not waiting for approval.", code="not_pending")
    user.pending = False
    session.add(user)
    audit.record(session=session, action="admin.approve_user", actor_id=actor_id, target=user.email, ip=ip)
    return UserPublic.of(user)


def reject_user(*, session: Session, actor_id: int, user_id: int, ip: str = "") -> UserPublic:
    """Turn a pending account away: it stays disabled (and no longer pending), so the address cannot sign up
    again without an admin enabling it."""
    user = get_user(session=session, user_id=user_id)
    if not user.pending:
        raise Conflict("This account is not waiting for approval.", code="not_pending")
    user.pending, user.is_active = False, False
    session.add(user)
    audit.record(session=session, action="admin.reject_user", actor_id=actor_id, target=user.email, ip=ip)
    return UserPublic.of(user)
