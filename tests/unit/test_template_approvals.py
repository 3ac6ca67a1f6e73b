"""The approval state machine: examples of each rule, then properties over random sequences (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.services.templates import approvals as ap
from app.services.templates.approvals import Review, ReviewError, Stage, Workflow

ROLES = {1: "editor", 2: "approver", 3: "approver", 4: "admin", 5: "owner", 6: "viewer"}
COPY_THEN_LEGAL = Workflow(version=1, stages=(Stage("Copy", needed=2), Stage("Legal", members=frozenset({5}))))


def _approve(review: Review, actor: int, workflow: Workflow = COPY_THEN_LEGAL, revision: int | None = None) -> Review:
    return ap.approve(review, workflow=workflow, actor_id=actor, actor_role=ROLES[actor],
                      template_version=review.template_version,
                      revision=review.revision if revision is None else revision)


def test_two_stages_need_their_approvals_in_order():
    review = ap.start(workflow=COPY_THEN_LEGAL, template_version=3, author_id=1)
    review = _approve(review, 2)
    assert (review.stage, review.status) == (0, ap.IN_REVIEW)
    review = _approve(review, 3)
    assert (review.stage, review.status) == (1, ap.IN_REVIEW)
    with pytest.raises(ReviewError) as refused:  # an approver, but Legal names only member 5
        _approve(review, 2)
    assert refused.value.code == "not_reviewer"
    assert _approve(review, 5).status == ap.APPROVED


def test_the_author_cannot_approve_and_nobody_counts_twice():
    review = ap.start(workflow=COPY_THEN_LEGAL, template_version=1, author_id=2)
    with pytest.raises(ReviewError, match="own version"):
        _approve(review, 2)
    review = _approve(review, 3)
    with pytest.raises(ReviewError) as twice:
        _approve(review, 3)
    assert twice.value.code == "already_approved"
    assert review.approvals[0] == frozenset({3})


def test_an_edit_clears_the_current_stage_and_makes_earlier_decisions_stale():
    review = _approve(ap.start(workflow=COPY_THEN_LEGAL, template_version=1, author_id=1), 2)
    seen_revision = review.revision
    review = ap.edited(review)
    assert review.approvals[0] == frozenset() and review.revision == seen_revision + 1
    with pytest.raises(ReviewError) as stale:  # a reviewer who opened the version before the edit
        _approve(review, 3, revision=seen_revision)
    assert stale.value.code == "stale_decision"


def test_reject_needs_a_reason_and_returns_to_draft_with_it():
    review = ap.start(workflow=COPY_THEN_LEGAL, template_version=1, author_id=1)
    with pytest.raises(ReviewError, match="reason"):
        ap.reject(review, workflow=COPY_THEN_LEGAL, actor_id=2, actor_role="approver", template_version=1,
                  revision=0, reason="  ")
    done = ap.reject(review, workflow=COPY_THEN_LEGAL, actor_id=2, actor_role="approver", template_version=1,
                     revision=0, reason="Price  is wrong")
    assert (done.status, done.reason) == (ap.REJECTED, "Price is wrong")


def test_a_changed_workflow_invalidates_running_reviews_only():
    running = ap.start(workflow=COPY_THEN_LEGAL, template_version=2, author_id=1)
    finished = Review(template_version=1, author_id=1, workflow_version=1, status=ap.APPROVED)
    changed = Workflow(version=2, stages=(Stage("Copy"),))
    assert ap.workflow_changed(running, changed).status == ap.INVALIDATED
    assert ap.workflow_changed(finished, changed).status == ap.APPROVED
    with pytest.raises(ReviewError) as refused:
        _approve(running, 2, workflow=changed)
    assert refused.value.code == "workflow_changed"


def test_no_stages_means_approved_as_sent_and_only_approved_versions_go_live():
    review = ap.start(workflow=Workflow(version=1, stages=()), template_version=1, author_id=1)
    assert review.status == ap.APPROVED
    drafts = {1: review, 2: ap.start(workflow=COPY_THEN_LEGAL, template_version=2, author_id=1)}
    assert ap.activate(drafts, 1) == 1 and ap.latest_approved(drafts) == 1
    with pytest.raises(ReviewError) as refused:
        ap.activate(drafts, 2)
    assert refused.value.code == "not_approved"


def test_a_workflow_is_checked():
    with pytest.raises(ReviewError, match="needs 3 approvals but names 2"):
        ap.check_workflow([Stage("Legal", needed=3, members=frozenset({1, 2}))])
    with pytest.raises(ReviewError, match="Two stages"):
        ap.check_workflow([Stage("Copy"), Stage(" copy ")])
    assert len(ap.check_workflow([Stage("Copy"), Stage("Legal", needed=2)])) == 2


_stages = st.lists(st.builds(Stage, name=st.sampled_from(["Copy", "Design", "Legal", "Brand"]),
                             needed=st.integers(1, 2),
                             roles=st.sampled_from([frozenset(), frozenset({"approver"}),
                                                    frozenset({"admin", "owner"})]),
                             members=st.sampled_from([frozenset(), frozenset({5}), frozenset({2, 3})])),
                   max_size=3, unique_by=lambda s: s.name)


class ApprovalMachine(RuleBasedStateMachine):
    """Random sequences of what people do; after every step the promises must hold."""

    def __init__(self) -> None:
        super().__init__()
        self.workflow = COPY_THEN_LEGAL
        self.workflows = {COPY_THEN_LEGAL.version: COPY_THEN_LEGAL}
        self.reviews: dict[int, Review] = {}
        self.versions = 0
        self.active: int | None = None

    @rule(author=st.sampled_from(sorted(ROLES)))
    def send_a_new_version(self, author):
        self.versions += 1
        self.reviews[self.versions] = ap.start(workflow=self.workflow, template_version=self.versions,
                                               author_id=author)

    @precondition(lambda self: self.reviews)
    @rule(data=st.data(), actor=st.sampled_from(sorted(ROLES)), stale=st.booleans())
    def approve(self, data, actor, stale):
        version = data.draw(st.sampled_from(sorted(self.reviews)))
        before = self.reviews[version]
        revision = before.revision - 1 if stale else before.revision
        try:
            after = ap.approve(before, workflow=self.workflow, actor_id=actor, actor_role=ROLES[actor],
                               template_version=version, revision=revision)
        except ReviewError:
            return
        assert not stale, "a decision on an older revision moved the review"
        assert actor != before.author_id
        assert sum(len(a) for a in after.approvals) == sum(len(a) for a in before.approvals) + 1
        self.reviews[version] = after

    @precondition(lambda self: self.reviews)
    @rule(data=st.data(), actor=st.sampled_from(sorted(ROLES)))
    def reject(self, data, actor):
        version = data.draw(st.sampled_from(sorted(self.reviews)))
        review = self.reviews[version]
        try:
            self.reviews[version] = ap.reject(review, workflow=self.workflow, actor_id=actor,
                                              actor_role=ROLES[actor], template_version=version,
                                              revision=review.revision, reason="Not yet")
        except ReviewError:
            pass

    @precondition(lambda self: self.reviews)
    @rule(data=st.data())
    def edit(self, data):
        version = data.draw(st.sampled_from(sorted(self.reviews)))
        self.reviews[version] = ap.edited(self.reviews[version])

    @rule(stages=_stages)
    def change_the_workflow(self, stages):
        self.workflow = Workflow(version=self.workflow.version + 1, stages=tuple(stages))
        self.workflows[self.workflow.version] = self.workflow
        self.reviews = {v: ap.workflow_changed(r, self.workflow) for v, r in self.reviews.items()}

    @precondition(lambda self: self.reviews)
    @rule(data=st.data())
    def publish_or_roll_back(self, data):
        version = data.draw(st.sampled_from(sorted(self.reviews)))
        try:
            self.active = ap.activate(self.reviews, version)
        except ReviewError:
            assert self.reviews[version].status != ap.APPROVED

    @invariant()
    def the_active_version_is_approved(self):
        assert self.active is None or self.reviews[self.active].status == ap.APPROVED

    @invariant()
    def approvals_are_from_eligible_people_other_than_the_author(self):
        for review in self.reviews.values():
            workflow = self.workflows[review.workflow_version]
            for stage, approvers in zip(workflow.stages, review.approvals, strict=True):
                assert review.author_id not in approvers
                assert all(stage.eligible(u, ROLES[u]) for u in approvers)
                assert len(approvers) <= stage.needed

    @invariant()
    def stages_are_done_in_order(self):
        for review in self.reviews.values():
            workflow = self.workflows[review.workflow_version]
            done = review.stage if review.status != ap.APPROVED else len(workflow.stages)
            for n, (stage, approvers) in enumerate(zip(workflow.stages, review.approvals, strict=True)):
                if n < done:
                    assert len(approvers) == stage.needed
                elif n > review.stage:
                    assert not approvers


ApprovalMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
test_approval_properties = ApprovalMachine.TestCase
