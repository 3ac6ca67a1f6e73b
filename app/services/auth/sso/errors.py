"""Why a single sign-on did not finish: one stable code each, and the sentence people see.

The sign-in page shows a message looked up by code (never text from the URL), so a crafted link cannot
put words on the page.
"""

from __future__ import annotations

from app.errors import AppError

MESSAGES = {
    "sso_unknown_provider": "That sign-in method is not set up on this Atelier.",
    "sso_state_invalid": "That sign-in link is not valid or was already used. Please start again.",
    "sso_provider_error": "The sign-in provider did not let you in. Please try again.",
    "sso_provider_unreachable": "The sign-in provider could not be reached. Please try again in a moment.",
    "sso_token_invalid": "The sign-in provider's answer could not be verified, so you were not signed in.",
    "sso_email_unverified": "Your provider has not confirmed your email address, so Atelier cannot use it. "
                            "Sign in with your password and link this provider from Settings.",
    "sso_no_email": "Your provider did not share an email address with Atelier.",
    "sso_account_disabled": "This account is disabled. Ask an admin to enable it.",
    "sso_account_pending": "This account is waiting for an admin's approval.",
    "sso_signup_closed": "New accounts need an invitation on this Atelier. Ask a workspace admin to invite you.",
    "sso_signup_domain": "Accounts with this email domain cannot sign up here.",
    "sso_already_linked": "That provider account is already linked to another Atelier account.",
    "sso_link_session": "Your session ended while linking. Sign in and try again.",
    "sso_last_method": "This is your only way to sign in. Set a password or link another provider first.",
    "sso_not_linked": "That sign-in method is not linked to your account.",
    "sso_plan_member_limit": "This team's plan has no room for another member, so you were not added and not "
                             "signed in. Ask the team's owner to move to a larger plan, then sign in again.",
}


class SsoError(AppError):
    """A refused sign-in. Nothing was created when this is raised."""

    status = 400
    code = "sso_failed"

    def __init__(self, code: str, *, status: int = 400, detail: str = ""):
        super().__init__(MESSAGES.get(code, "Single sign-on failed."), code=code, status=status)
        # For the audit log and server logs only, never shown to the user.
        self.detail = detail[:300]


def message_for(code: str) -> str:
    return MESSAGES.get(code, "")
