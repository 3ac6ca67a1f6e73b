"""A team with one person per review role, and templates with versions stored as the versions service does."""

from __future__ import annotations

import hashlib
import json

from sqlmodel import select

from app.db import session_scope
from app.models import Membership, Template, TemplateVersion, User
from app.services.auth import accounts
from app.services.templates import approval_workflow
from app.services.workspaces.service import acting, create_team

PASSWORD = "correct horse battery"
PEOPLE = {"owner": "owner", "editor": "editor", "editor2": "editor", "ann": "approver", "bob": "approver",
          "cat": "approver", "viewer": "viewer", "outsider": None}
PASSING = [{"key": "links", "label": "Links", "ok": True, "blocking": True, "detail": "", "items": []}]


class Team:
    def __init__(self) -> None:
        with session_scope() as session:
            self.ids = {who: accounts.register_user(session=session, email=f"{who}@example.com", password=PASSWORD,
                                                    name=who.capitalize()).id for who in PEOPLE}
            self.workspace_id = create_team(session=session, user_id=self.ids["owner"], name="Studio").id
            for who, role in PEOPLE.items():
                if role and role != "owner":
                    session.add(Membership(workspace_id=self.workspace_id, user_id=self.ids[who], role=role))

    def actor(self, session, who: str):
        user = session.get(User, self.ids[who])
        return acting(session=session, user=user, workspace_id=None if who == "outsider" else self.workspace_id)

    def set_workflow(self, stages: list[dict], who: str = "owner") -> dict:
        with session_scope() as session:
            return approval_workflow.set_workflow(session=session, actor=self.actor(session, who),
                                                  workspace_id=self.workspace_id, stages=stages)

    def template(self, name: str = "Welcome", kind: str = "email", author: str = "editor") -> int:
        with session_scope() as session:
            row = Template(workspace_id=self.workspace_id, kind=kind, name=name, created_by=self.ids[author])
            session.add(row)
            session.flush()
            return row.id

    def save(self, template_id: int, source: str = "<mjml></mjml>", author: str = "editor",
             checks: list | None = None) -> int:
        """A new draft version (number = latest + 1), with passing checks unless told otherwise."""
        with session_scope() as session:
            template = session.exec(select(Template).where(Template.id == template_id)).one()
            template.latest_number += 1
            content = {"source": source, "schema": {"type": "object", "properties": {}}}
            digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
            session.add(TemplateVersion(template_id=template_id, number=template.latest_number, content=content,
                                        author_id=self.ids[author], content_hash=digest,
                                        checks=PASSING if checks is None else checks))
            session.add(template)
            return template.latest_number
