"""The review pages' handlers driven as the websocket drives them (the bell, the inbox, the editor's review panel,
the workflow card), against the real services and database."""

from __future__ import annotations

from app.db import session_scope
from app.models import AuthSession
from app.services.auth.sessions import COOKIE_NAME, create_session
from app.services.secrets import token_digest
from app.services.templates import reviews
from state.approval_workflow import WorkflowSettingsState
from state.notifications import NotificationsState
from state.review_panel import ReviewPanelState
from state.reviews import ReviewsState
from tests.integration.template_review_helpers import Team
from tests.integration.test_template_pages import fake_of, run


def cookie_of(team: Team, who: str) -> str:
    with session_scope() as session:
        token = create_session(session=session, user_id=team.ids[who])
    with session_scope() as session:  # the switcher's doing: this browser acts in the team
        row = session.get(AuthSession, token_digest(token))
        row.workspace_id = team.workspace_id
        session.add(row)
    return f"{COOKIE_NAME}={token}"


async def test_bell_inbox_panel_and_workflow_card(env):
    team = Team()
    team.set_workflow([{"name": "Copy", "needed": 1, "roles": ["approver"]},
                       {"name": "Legal", "needed": 1, "members": []}])
    tid = team.template()
    n = team.save(tid)
    with session_scope() as session:
        reviews.submit(session=session, actor=team.actor(session, "editor"), template_id=tid, number=n, revision=0)
    ann = cookie_of(team, "ann")

    bell = fake_of(NotificationsState, ann, "/reviews", ("_refresh",))
    await run(NotificationsState, "load", bell)
    assert bell.unread == 1 and bell.items[0]["title"].startswith("Review “Welcome” v1")
    answer = await run(NotificationsState, "open_notice", bell, bell.items[0]["id"], bell.items[0]["link"])
    assert bell.unread == 0 and bell.items[0]["unread"] == "" and answer is not None

    inbox = fake_of(ReviewsState, ann, "/reviews")
    await run(ReviewsState, "load_page", inbox)
    assert inbox.allowed and [i["stage"] for i in inbox.items] == ["Copy"]
    editor_inbox = fake_of(ReviewsState, cookie_of(team, "editor"), "/reviews")
    await run(ReviewsState, "load_page", editor_inbox)
    assert not editor_inbox.allowed and editor_inbox.items == []

    helpers = ("_template_id", "_refresh", "_act", "_decision")
    panel = fake_of(ReviewPanelState, ann, f"/templates/{tid}", helpers)
    await run(ReviewPanelState, "load", panel)
    assert panel.progress == "Copy 0/1 → Legal" and "approve" in panel.can
    await run(ReviewPanelState, "approve", panel)
    assert panel.progress == "Copy 1/1 ✓ → Legal 0/1" and panel.stages[0]["approved_by"] == "Ann"
    author = fake_of(ReviewPanelState, cookie_of(team, "editor"), f"/templates/{tid}", helpers)
    await run(ReviewPanelState, "load", author)
    assert "approve" not in author.can and author.version["status"] == "in_review"
    author.comment_text = "@ann@example.com thanks!"
    await run(ReviewPanelState, "add_comment", author)
    assert author.comment_text == "" and author.thread[0]["mentions"] == "Ann"

    card = fake_of(WorkflowSettingsState, cookie_of(team, "owner"), "/workspace")
    await run(WorkflowSettingsState, "load", card)
    assert [s["name"] for s in card.stages] == ["Copy", "Legal"] and card.can_manage
    await run(WorkflowSettingsState, "move_stage", card, 1, -1)
    await run(WorkflowSettingsState, "toggle", card, 0, "members", str(team.ids["bob"]))
    await run(WorkflowSettingsState, "save", card)
    assert card.error == "" and card.version == 2
    # The running review was invalidated and its author told.
    author_bell = fake_of(NotificationsState, cookie_of(team, "editor"), "/", ("_refresh",))
    await run(NotificationsState, "load", author_bell)
    assert any(i["title"].startswith("Send “Welcome” v1 again") for i in author_bell.items)
