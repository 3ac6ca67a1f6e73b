"""Property tests of the STORED review machine: random sequences of save (edit in review), submit, approve,
reject, workflow change and activation, run through the services against a real SQLite database.

After every step: the active version is an approved one; nobody approved their own version; no approval is
counted twice; an approved version's content never changes; a stage behind the current one has its approvals
and the current one is short of them; a refused step changes nothing; and every approval the service stores is
exactly what the pure machine (app.services.templates.approvals) answers for the stored review.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from app.db import read_scope, session_scope
from app.errors import AppError
from app.models import Template, TemplateApproval, TemplateVersion
from app.services.templates import approval_workflow, approvals, library, reviews, versions
from app.services.workspaces import permissions
from tests.integration.template_review_helpers import Team

SOURCE = "<mjml><mj-body><mj-section><mj-column><mj-text>{}</mj-text></mj-column></mj-section></mj-body></mjml>"
AUTHORS = ("editor", "owner")
DECIDERS = ("owner", "ann", "bob", "cat", "editor", "viewer")


def workflows(team: Team) -> list[list[dict]]:
    return [
        [{"name": "Copy", "needed": 1, "roles": ["approver"]}, {"name": "Legal", "members": [team.ids["bob"]]}],
        [{"name": "Design", "needed": 2}],
        [{"name": "Copy", "needed": 1, "roles": ["owner", "approver"]}, {"name": "Design", "needed": 2,
                                                                          "roles": ["approver"]}],
        [],
    ]


REVIEWERS = ("owner", "ann", "bob", "cat")
# Weighted towards reviews that get somewhere: submits and fresh approvals by reviewers come often.
step = st.one_of(
    st.tuples(st.just("save"), st.sampled_from(AUTHORS)),
    st.tuples(st.just("submit"), st.sampled_from(AUTHORS)),
    st.tuples(st.just("submit"), st.just("editor")),
    st.tuples(st.just("approve"), st.sampled_from(REVIEWERS), st.just("fresh")),
    st.tuples(st.just("approve"), st.sampled_from(REVIEWERS), st.just("fresh")),
    st.tuples(st.just("approve"), st.sampled_from(REVIEWERS), st.just("fresh")),
    st.tuples(st.just("approve"), st.sampled_from(DECIDERS), st.sampled_from(["fresh", "old_revision", "stage"])),
    st.tuples(st.just("reject"), st.sampled_from(DECIDERS), st.sampled_from(["fresh", "old_revision"])),
    st.tuples(st.just("workflow"), st.integers(0, 3)),
    st.tuples(st.just("activate"), st.integers(1, 4)),
)


@pytest.fixture
def team(env):
    return Team()


def snapshot(template_id: int) -> tuple:
    with read_scope() as session:
        rows = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id)
                            .order_by(col(TemplateVersion.number))).all()
        ids = [r.id for r in rows]
        marks = session.exec(select(TemplateApproval).where(col(TemplateApproval.version_id).in_(ids))).all() \
            if ids else []
        template = session.get(Template, template_id)
        return (template.active_version_id, template.latest_number,
                tuple((r.number, r.status, r.stage, r.revision, r.content_hash, r.workflow_version) for r in rows),
                frozenset((m.version_id, m.stage, m.user_id) for m in marks))


def check_invariants(template_id: int, approved_hashes: dict[int, str]) -> None:
    with read_scope() as session:
        template = session.get(Template, template_id)
        workflow = approval_workflow.workflow_of(session=session, workspace_id=template.workspace_id)
        rows = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id)).all()
        by_id = {r.id: r for r in rows}
        if template.active_version_id is not None:
            assert by_id[template.active_version_id].status == approvals.APPROVED
        marks = session.exec(select(TemplateApproval).where(col(TemplateApproval.version_id).in_(list(by_id)))).all() \
            if by_id else []
        seen = set()
        for mark in marks:
            key = (mark.version_id, mark.stage, mark.user_id)
            assert key not in seen, "an approval counted twice"
            seen.add(key)
            assert mark.user_id != by_id[mark.version_id].author_id, "a self-approval was stored"
        for row in rows:
            if row.status == approvals.APPROVED:
                assert approved_hashes.setdefault(row.id, row.content_hash) == row.content_hash
            if row.status == approvals.IN_REVIEW and row.workflow_version == workflow.version:
                counts = [sum(1 for m in marks if m.version_id == row.id and m.stage == i)
                          for i in range(len(workflow.stages))]
                assert all(counts[i] >= workflow.stages[i].needed for i in range(row.stage))
                assert counts[row.stage] < workflow.stages[row.stage].needed


def expected_decision(team: Team, template_id: int, who: str, how: str, reject: bool):
    """What the pure machine says of this decision on the stored review: (error code or None, Review or None)."""
    with read_scope() as session:
        template = session.get(Template, template_id)
        version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                             TemplateVersion.number == template.latest_number)).one()
        role = team.actor(session, who).workspace_role
        if not permissions.allowed(role, "approvals.review"):
            return "role_forbidden", None, version.number, version.revision, version.stage
        workflow = approval_workflow.workflow_of(session=session, workspace_id=template.workspace_id)
        review = reviews.review_of(session=session, version=version, stages=len(workflow.stages))
        number = version.number
    revision = review.revision - 1 if how == "old_revision" else review.revision
    stage = review.stage + 1 if how == "stage" else review.stage
    if how == "stage" and review.status == approvals.IN_REVIEW:
        return "stale_decision", None, number, revision, stage
    try:
        if reject:
            after = approvals.reject(review, workflow=workflow, actor_id=team.ids[who], actor_role=role,
                                     template_version=number, revision=revision, reason="Not yet.")
        else:
            after = approvals.approve(review, workflow=workflow, actor_id=team.ids[who], actor_role=role,
                                      template_version=number, revision=revision)
    except approvals.ReviewError as exc:
        return exc.code, None, number, revision, stage
    return None, after, number, revision, stage


def run(team: Team, template_id: int, op: tuple, approved_hashes: dict[int, str], counter: list[int]) -> None:
    kind = op[0]
    before = snapshot(template_id)
    with read_scope() as session:
        template = session.get(Template, template_id)
        latest = versions.latest_version(session=session, template=template)
        number, revision = template.latest_number, latest.revision if latest else 0
    expected = None
    if kind in ("approve", "reject"):
        expected = expected_decision(team, template_id, op[1], op[2], kind == "reject")
    try:
        with session_scope() as session:
            actor = team.actor(session, op[1]) if kind in ("save", "submit", "approve", "reject") else \
                team.actor(session, "owner")
            if kind == "save":
                counter[0] += 1
                versions.save_version(session=session, actor=actor, template_id=template_id,
                                      content={"source": SOURCE.format(f"Text {counter[0]}")},
                                      base_number=number, base_revision=revision)
            elif kind == "submit":
                session.close()  # the checklist runs in its own transactions (SQLite has one writer)
                reviews.check_and_submit(actor=actor, template_id=template_id, number=number, revision=revision)
            elif kind in ("approve", "reject"):
                code, after, n, rev, stage = expected
                fn = reviews.reject if kind == "reject" else reviews.approve
                extra = {"reason": "Not yet."} if kind == "reject" else {}
                fn(session=session, actor=actor, template_id=template_id, number=n, revision=rev, stage=stage,
                   **extra)
            elif kind == "workflow":
                approval_workflow.set_workflow(session=session, actor=actor, workspace_id=team.workspace_id,
                                               stages=workflows(team)[op[1]])
            elif kind == "activate":
                reviews.activate(session=session, actor=actor, template_id=template_id, number=op[1])
        outcome = None
    except AppError as exc:
        outcome = exc.code
        assert snapshot(template_id) == before, f"{op} was refused ({exc.code}) but changed something"
    event(f"{kind}: {outcome or 'done'}")
    if expected is not None:
        code, after = expected[0], expected[1]
        assert outcome == code, f"{op}: the service said {outcome}, the pure machine {code}"
        if after is not None:
            with read_scope() as session:
                version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                                     TemplateVersion.number == expected[2])).one()
                workflow = approval_workflow.workflow_of(session=session, workspace_id=team.workspace_id)
                stored = reviews.review_of(session=session, version=version, stages=len(workflow.stages))
            assert (stored.status, stored.stage, stored.revision) == (after.status, after.stage, after.revision)
            assert stored.approvals[:len(after.approvals)] == after.approvals
    check_invariants(template_id, approved_hashes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(first=st.integers(0, 3), ops=st.lists(step, min_size=1, max_size=30))
def test_the_stored_machine_keeps_the_pure_machines_promises(team, first, ops):
    with session_scope() as session:
        approval_workflow.set_workflow(session=session, actor=team.actor(session, "owner"),
                                       workspace_id=team.workspace_id, stages=workflows(team)[first])
        template = library.create_template(session=session, actor=team.actor(session, "editor"), kind="email",
                                           name="Property", content={"source": SOURCE.format("First")})
        template_id = template.id
    approved_hashes: dict[int, str] = {}
    counter = [0]
    for op in ops:
        run(team, template_id, op, approved_hashes, counter)
