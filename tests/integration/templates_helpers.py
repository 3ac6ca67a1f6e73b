"""People, a team and templates for the template tests (services called as the pages and routes call them)."""

from __future__ import annotations

from sqlmodel import select

from app.db import session_scope
from app.models import Membership, Template, TemplateVersion, User
from app.services.auth import accounts
from app.services.templates import approvals, library
from app.services.workspaces.service import acting, create_team

PASSWORD = "correct horse battery"

EMAIL = {
    "source": ("<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n"
               "        <mj-text>Hello {{ first_name }}, your order {{ order_id }} is on its way.</mj-text>\n"
               "        <mj-button href=\"https://example.com/orders\">Track it</mj-button>\n"
               "      </mj-column>\n    </mj-section>\n  </mj-body>\n</mjml>\n"),
    "schema": {"type": "object", "required": ["order_id"],
               "properties": {"first_name": {"type": "string", "default": "there"},
                              "order_id": {"type": "string"}}},
}
IMAGE_STYLE = {"prompt": "{{ subject }} in a quiet watercolor, soft light", "negative_prompt": "text, logos",
               "settings": {"size": "512x512", "n": 2, "seed": 7},
               "schema": {"type": "object", "properties": {"subject": {"type": "string", "default": "a lighthouse"}}}}


class Team:
    """A team workspace with one member per role, and someone from outside with a workspace of their own."""

    def __init__(self) -> None:
        with session_scope() as session:
            self.users = {role: accounts.register_user(session=session, email=f"{role}@example.com",
                                                       password=PASSWORD)
                          for role in ("owner", "admin", "editor", "approver", "viewer", "outsider")}
            self.workspace_id = create_team(session=session, user_id=self.users["owner"].id, name="Studio").id
            for role in ("admin", "editor", "approver", "viewer"):
                session.add(Membership(workspace_id=self.workspace_id, user_id=self.users[role].id, role=role))

    def actor(self, role: str):
        with session_scope() as session:
            user = session.get(User, self.users[role].id)
            workspace = None if role == "outsider" else self.workspace_id
            return acting(session=session, user=user, workspace_id=workspace)


def make(actor, kind="email", content=None, **details):
    with session_scope() as session:
        template = library.create_template(session=session, actor=actor, kind=kind,
                                           name=details.pop("name", "Order shipped"),
                                           content=content if content is not None else
                                           {"email": EMAIL, "image_style": IMAGE_STYLE}.get(kind), **details)
        return template.id


def approve_latest(template_id: int) -> int:
    """Mark the latest version approved and active, as the review service does at the last stage (the review
    flow itself is tested by tpl-review); returns its number."""
    with session_scope() as session:
        template = session.get(Template, template_id)
        version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                             TemplateVersion.number == template.latest_number)).one()
        version.status = approvals.APPROVED
        template.active_version_id = version.id
        session.add_all([version, template])
        return version.number


def headers(team: Team, role: str) -> dict:
    """A signed-in browser's headers for `role`, acting in the team (the outsider in their own workspace)."""
    from app.services.auth.sessions import COOKIE_NAME, create_session

    with session_scope() as session:
        cookie = create_session(session=session, user_id=team.users[role].id)
    out = {"Origin": "http://localhost:3000", "Cookie": f"{COOKIE_NAME}={cookie}"}
    if role != "outsider":
        out["X-Workspace"] = str(team.workspace_id)
    return out
