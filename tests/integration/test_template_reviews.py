"""The stored review machine: workflows, submit/approve/reject, activation, notices, audit — on a real database."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import col, select

from app.db import read_scope, session_scope
from app.errors import AppError
from app.models import AuditEvent, Membership, Notification, OutboxEmail, Template, TemplateVersion
from app.services import notifications
from app.services.templates import approval_workflow, reviews
from tests.integration.template_review_helpers import Team

COPY_LEGAL = [{"name": "Copy", "needed": 1, "roles": ["approver"]}, {"name": "Legal", "needed": 1, "members": []}]


@pytest.fixture
def team(any_db):
    team = Team()
    stages = [dict(s) for s in COPY_LEGAL]
    stages[1]["members"] = [team.ids["bob"]]
    team.set_workflow(stages)
    return team


def call(team: Team, fn, who: str, **kwargs):
    with session_scope() as session:
        return fn(session=session, actor=team.actor(session, who), **kwargs)


def refused(team: Team, fn, who: str, **kwargs) -> AppError:
    with pytest.raises(AppError) as info:
        call(team, fn, who, **kwargs)
    return info.value


def version(template_id: int, number: int) -> TemplateVersion:
    with session_scope() as session:
        return session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                          TemplateVersion.number == number)).one()


def notices(team: Team, who: str, kind: str | None = None) -> list[Notification]:
    with session_scope() as session:
        rows = notifications.list_for(session=session, actor=team.actor(session, who))
    return [n for n in rows if kind is None or n.kind == kind]


def test_two_stages_two_approvers_then_active_with_notices_and_audit(team):
    tid = team.template()
    n = team.save(tid)
    call(team, reviews.submit, "editor", template_id=tid, number=n, revision=0)
    assert version(tid, n).status == "in_review"
    # Copy's reviewers (the approver role) are told; the author and the owner are not.
    assert {len(notices(team, w, "review_assigned")) for w in ("ann", "bob", "cat")} == {1}
    assert not notices(team, "editor") and not notices(team, "owner")
    # The author cannot approve their own version; a viewer cannot review; an outsider does not see it.
    assert refused(team, reviews.approve, "owner", template_id=tid, number=n, revision=0).code == "not_reviewer"
    assert refused(team, reviews.approve, "viewer", template_id=tid, number=n, revision=0).code == "role_forbidden"
    assert refused(team, reviews.approve, "outsider", template_id=tid, number=n, revision=0).status == 404
    call(team, reviews.approve, "ann", template_id=tid, number=n, revision=0, stage=0)
    assert version(tid, n).stage == 1
    # Legal names bob only: cat (an approver) is not a reviewer of it; ann's Copy approval does not count twice.
    assert refused(team, reviews.approve, "cat", template_id=tid, number=n, revision=0).code == "not_reviewer"
    assert refused(team, reviews.approve, "ann", template_id=tid, number=n, revision=0, stage=0).code \
        == "stale_decision"
    assert len(notices(team, "bob", "review_assigned")) == 2
    state = call(team, reviews.review_state, "bob", template_id=tid)
    assert [s["state"] for s in state["stages"]] == ["done", "current"] and state["stages"][0]["approved_by"] == ["Ann"]
    assert "approve" in state["can"]
    assert "approve" not in call(team, reviews.review_state, "cat", template_id=tid)["can"]
    call(team, reviews.approve, "bob", template_id=tid, number=n, revision=0, stage=1)
    row = version(tid, n)
    assert row.status == "approved" and row.decided_at is not None
    with session_scope() as session:
        assert session.get(Template, tid).active_version_id == row.id
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]
        mails = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "editor@example.com")).all()
    assert [a for a in actions if a.startswith("template.")] == [
        "template.review_submitted", "template.review_approved", "template.review_approved", "template.activated"]
    assert [n.kind for n in notices(team, "editor")] == ["review_decided"] and len(mails) == 1
    assert "approved" in mails[0].subject
    done = call(team, reviews.review_state, "viewer", template_id=tid)["stages"]
    assert [(s["state"], s["approved_by"]) for s in done] == [("done", ["Ann"]), ("done", ["Bob"])]
    # Nothing more to do on an approved version.
    assert refused(team, reviews.approve, "cat", template_id=tid, number=n, revision=0).code == "review_closed"


def test_stale_edits_rejection_and_failing_checks(team):
    tid = team.template()
    bad = team.save(tid, checks=[{"key": "links", "label": "Links", "ok": False, "blocking": True}])
    assert refused(team, reviews.submit, "editor", template_id=tid, number=bad, revision=0).code == "checks_failed"
    n = team.save(tid)
    assert refused(team, reviews.submit, "editor", template_id=tid, number=bad, revision=0).code == "not_latest"
    assert refused(team, reviews.submit, "viewer", template_id=tid, number=n, revision=0).code == "role_forbidden"
    call(team, reviews.submit, "editor", template_id=tid, number=n, revision=0)
    call(team, reviews.approve, "ann", template_id=tid, number=n, revision=0)
    # An edit during Legal clears Legal's approvals only; a decision on the old revision is stale.
    with session_scope() as session:
        reviews.content_edited(session=session, version=session.get(TemplateVersion, version(tid, n).id))
    assert refused(team, reviews.approve, "bob", template_id=tid, number=n, revision=0).code == "stale_decision"
    state = call(team, reviews.review_state, "bob", template_id=tid)
    assert state["stages"][0]["approved_by"] == ["Ann"] and state["version"]["revision"] == 1
    assert refused(team, reviews.reject, "bob", template_id=tid, number=n, revision=1, reason="  ").code \
        == "reason_required"
    call(team, reviews.reject, "bob", template_id=tid, number=n, revision=1, reason="The price is wrong.")
    row = version(tid, n)
    assert row.status == "rejected" and row.reason == "The price is wrong."
    decided = notices(team, "editor", "review_decided")
    assert len(decided) == 1 and decided[0].body == "The price is wrong."
    assert refused(team, reviews.submit, "editor", template_id=tid, number=n, revision=1).code == "not_draft"
    with session_scope() as session:
        assert session.get(Template, tid).active_version_id is None


def test_a_workflow_change_invalidates_running_reviews_and_they_can_be_sent_again(team):
    tid = team.template()
    n = team.save(tid)
    call(team, reviews.submit, "editor", template_id=tid, number=n, revision=0)
    call(team, reviews.approve, "ann", template_id=tid, number=n, revision=0)
    assert refused(team, approval_workflow.set_workflow, "editor", workspace_id=team.workspace_id,
                   stages=[]).code == "role_forbidden"
    assert refused(team, approval_workflow.set_workflow, "owner", workspace_id=team.workspace_id,
                   stages=[{"name": "Legal", "members": [team.ids["editor"]]}]).code == "workflow_invalid"
    assert refused(team, approval_workflow.set_workflow, "owner", workspace_id=team.workspace_id,
                   stages=[{"name": "X"}], expected_version=7).code == "workflow_conflict"
    saved = call(team, approval_workflow.set_workflow, "owner", workspace_id=team.workspace_id,
                 stages=[{"name": "Design", "needed": 2}], expected_version=1)
    assert saved["version"] == 2 and saved["invalidated"] == 1
    assert version(tid, n).status == "invalidated"
    assert len(notices(team, "editor", "review_invalidated")) == 1
    assert refused(team, reviews.approve, "bob", template_id=tid, number=n, revision=0).code == "review_closed"
    # Sent again: the old approvals are gone, two of the review roles are needed now.
    call(team, reviews.submit, "editor", template_id=tid, number=n, revision=0)
    call(team, reviews.approve, "owner", template_id=tid, number=n, revision=0)
    assert version(tid, n).status == "in_review"
    call(team, reviews.approve, "cat", template_id=tid, number=n, revision=0)
    assert version(tid, n).status == "approved"


def test_no_stages_approves_as_sent_and_rollback_only_to_approved(team):
    team.set_workflow([])
    tid = team.template()
    first = team.save(tid)
    call(team, reviews.submit, "editor", template_id=tid, number=first, revision=0)
    second = team.save(tid)
    call(team, reviews.submit, "editor", template_id=tid, number=second, revision=0)
    draft = team.save(tid)
    second_id, first_id = version(tid, second).id, version(tid, first).id
    with session_scope() as session:
        assert session.get(Template, tid).active_version_id == second_id
    assert refused(team, reviews.activate, "editor", template_id=tid, number=draft).code == "not_approved"
    assert refused(team, reviews.activate, "viewer", template_id=tid, number=first).code == "role_forbidden"
    call(team, reviews.activate, "editor", template_id=tid, number=first)
    with session_scope() as session:
        assert session.get(Template, tid).active_version_id == first_id
        rollback = session.exec(select(AuditEvent).where(AuditEvent.action == "template.activated")
                                .order_by(col(AuditEvent.id).desc())).first()
    assert rollback.detail == f"rollback; was v{second}"
    state = call(team, reviews.review_state, "viewer", template_id=tid)
    assert state["active_number"] == first and state["approved_numbers"] == [second, first]


def test_notices_follow_membership_and_mark_read(team):
    tid = team.template()
    n = team.save(tid)
    call(team, reviews.submit, "editor", template_id=tid, number=n, revision=0)
    with session_scope() as session:
        ann = team.actor(session, "ann")
        assert notifications.unread_count(session=session, actor=ann) == 1
        # Someone else's notice ids are ignored.
        bob_notice = notifications.list_for(session=session, actor=team.actor(session, "bob"))[0].id
        assert notifications.mark_read(session=session, actor=ann, ids=[bob_notice]) == 0
        assert notifications.mark_read(session=session, actor=ann) == 1
        assert notifications.unread_count(session=session, actor=ann) == 0
        cat = team.actor(session, "cat")
    assert len(notices(team, "cat")) == 1
    with session_scope() as session:
        session.delete(session.get(Membership, (team.workspace_id, team.ids["cat"])))
    with session_scope() as session:
        assert notifications.list_for(session=session, actor=cat) == []
        assert notifications.unread_count(session=session, actor=cat) == 0
    # The inbox: Copy's reviewers see it until they approved; the author never does.
    assert [r["number"] for r in call(team, reviews.inbox, "ann")] == [n]
    assert refused(team, reviews.inbox, "editor").code == "role_forbidden"
    call(team, reviews.approve, "ann", template_id=tid, number=n, revision=0)
    assert call(team, reviews.inbox, "ann") == [] and [r["stage_name"] for r in call(team, reviews.inbox, "bob")] \
        == ["Legal"]


@pytest.mark.parametrize("rounds", [3])
def test_two_approvers_at_the_same_moment_advance_once(team, rounds):
    """The last approval of a stage clicked by two people at once: one advances the stage, the other is told."""
    team.set_workflow([{"name": "Copy", "needed": 2, "roles": ["approver"]},
                       {"name": "Legal", "needed": 1, "roles": ["owner"]}])
    tid = team.template()
    for round_ in range(rounds):
        n = team.save(tid)
        call(team, reviews.submit, "editor", template_id=tid, number=n, revision=0)
        call(team, reviews.approve, "ann", template_id=tid, number=n, revision=0, stage=0)
        barrier, results = threading.Barrier(2), {}

        def click(who: str, n=n, barrier=barrier, results=results) -> None:
            with read_scope() as session:
                actor = team.actor(session, who)
            barrier.wait()
            try:
                with session_scope() as session:
                    reviews.approve(session=session, actor=actor, template_id=tid, number=n, revision=0, stage=0)
                results[who] = "ok"
            except AppError as exc:
                results[who] = exc.code

        threads = [threading.Thread(target=click, args=(who,)) for who in ("bob", "cat")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results.values()) == ["ok", "stale_decision"], results
        row = version(tid, n)
        assert row.stage == 1 and row.status == "in_review"
        with session_scope() as session:
            from app.models import TemplateApproval

            stage0 = session.exec(select(TemplateApproval).where(TemplateApproval.version_id == row.id,
                                                                 TemplateApproval.stage == 0)).all()
            assigned = session.exec(select(Notification).where(Notification.user_id == team.ids["owner"],
                                                               Notification.kind == "review_assigned")).all()
        assert len(stage0) == 2
        assert len(assigned) == round_ + 1  # Legal's reviewer is told once per round, not twice
        call(team, reviews.reject, "owner", template_id=tid, number=n, revision=0, reason="next round")
