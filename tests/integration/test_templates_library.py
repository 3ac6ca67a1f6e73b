"""The template library and its versions at the service layer, on real SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import AuditEvent, TemplateApproval, TemplateVersion
from app.services.templates import approvals, library, versions
from tests.integration.templates_helpers import EMAIL, IMAGE_STYLE, Team, approve_latest, make


@pytest.fixture
def team(any_db):
    return Team()


def save(actor, template_id, content, base, revision=0, note=""):
    with session_scope() as session:
        version = versions.save_version(session=session, actor=actor, template_id=template_id, content=content,
                                        note=note, base_number=base, base_revision=revision)
        return version.number, version.revision, version.status


def edited(source: str) -> dict:
    return {**EMAIL, "source": EMAIL["source"].replace("Hello", source)}


def test_create_saves_a_first_draft_and_each_save_makes_a_new_version(team):
    editor = team.actor("editor")
    template_id = make(editor, tags=["Promo", " promo ", "Summer  sale"], category="Retail")
    with session_scope() as session:
        template = library.get_template(session=session, actor=editor, template_id=template_id)
        assert template.tags == ["promo", "summer sale"] and template.latest_number == 1
    assert save(editor, template_id, edited("Hi"), base=1, note="warmer") == (2, 0, "draft")
    assert save(editor, template_id, edited("Hey"), base=2) == (3, 0, "draft")
    with session_scope() as session:
        listed = versions.list_versions(session=session, actor=team.actor("viewer"), template_id=template_id)
        assert [v.number for v in listed] == [3, 2, 1] and listed[1].note == "warmer"
        assert all(v.author_id == editor.id for v in listed)
        actions = [e.action for e in session.exec(select(AuditEvent))]
        assert actions.count("template.version.save") == 3 and "template.create" in actions


def test_a_stale_save_is_refused_and_nothing_is_overwritten(team):
    editor, admin = team.actor("editor"), team.actor("admin")
    template_id = make(editor)
    save(editor, template_id, edited("Hi"), base=1)
    with pytest.raises(Conflict) as refused:
        save(admin, template_id, edited("Howdy"), base=1)
    assert refused.value.code == "edit_conflict" and refused.value.details["latest_number"] == 2
    with session_scope() as session:
        latest = versions.get_version(session=session, actor=editor, template_id=template_id, number=2)
        assert "Hi" in latest.content["source"]


def test_saving_a_version_in_review_edits_it_in_place_and_clears_the_stage(team):
    editor, approver = team.actor("editor"), team.actor("approver")
    template_id = make(editor)
    with session_scope() as session:  # in review at stage 2, with one approval at each stage so far
        version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id)).one()
        version.status, version.stage = approvals.IN_REVIEW, 1
        session.add(version)
        session.add_all([TemplateApproval(version_id=version.id, stage=0, user_id=approver.id, revision=0),
                         TemplateApproval(version_id=version.id, stage=1, user_id=approver.id, revision=0)])
    assert save(editor, template_id, edited("Hi"), base=1, revision=0) == (1, 1, "in_review")
    with pytest.raises(Conflict) as stale:  # someone who opened revision 0
        save(editor, template_id, edited("Yo"), base=1, revision=0)
    assert stale.value.code == "edit_conflict"
    with session_scope() as session:
        left = session.exec(select(TemplateApproval)).all()
        assert [(a.stage, a.user_id) for a in left] == [(0, approver.id)]
        version = versions.get_version(session=session, actor=editor, template_id=template_id, number=1)
        assert "Hi" in version.content["source"] and version.checks is None


def test_approved_versions_never_change_a_save_makes_a_new_one(team):
    editor = team.actor("editor")
    template_id = make(editor)
    approve_latest(template_id)
    assert save(editor, template_id, edited("Hi"), base=1) == (2, 0, "draft")
    with session_scope() as session:
        first = versions.get_version(session=session, actor=editor, template_id=template_id, number=1)
        assert first.content == EMAIL and first.status == "approved"


@pytest.mark.parametrize("content, code, where", [
    ({**EMAIL, "source": EMAIL["source"].replace("{{ order_id }}", "{{ order_id }")}, "template_syntax",
     {"line": 5}),
    ({**EMAIL, "source": EMAIL["source"].replace("{{ order_id }}", "{{ coupon }}")},
     "template_undeclared_variable", {"line": 5, "variable": "coupon"}),
    ({**EMAIL, "source": EMAIL["source"].replace("{{ first_name }}", "{{ first_name.__class__ }}")},
     "template_unsafe", {}),
    ({**EMAIL, "source": "<mjml><mj-body>" + "<mj-wrapper>" * 30 + "</mj-wrapper>" * 30 + "</mj-body></mjml>"},
     "template_too_deep", {"line": 1}),
    ({**EMAIL, "source": "<mjml>" + "x" * (300 * 1024) + "</mjml>"}, "template_too_large", {}),
    ({**EMAIL, "schema": {"type": "object", "properties": {"first_name": {"default": "x"}}}},
     "template_variables_invalid", {"variable": "first_name"}),
])
def test_bad_email_content_is_refused_naming_the_line_or_variable(team, content, code, where):
    editor = team.actor("editor")
    template_id = make(editor)
    with pytest.raises(ValidationFailed) as refused:
        save(editor, template_id, content, base=1)
    assert refused.value.code == code, refused.value.message
    for key, value in where.items():
        assert refused.value.details[key] == value, refused.value.details
    with session_scope() as session:  # nothing was stored
        assert versions.list_versions(session=session, actor=editor, template_id=template_id)[0].number == 1


def test_image_style_content_is_checked_like_the_generate_form(team):
    editor = team.actor("editor")
    template_id = make(editor, kind="image_style")
    for settings, field in (({"size": "big"}, "settings.size"), ({"n": 9}, "settings.n"),
                            ({"sampler": "x"}, "settings.sampler")):
        with pytest.raises(ValidationFailed) as refused:
            save(editor, template_id, {**IMAGE_STYLE, "settings": settings}, base=1)
        assert refused.value.details["field"] == field
    with pytest.raises(ValidationFailed) as refused:
        save(editor, template_id, {**IMAGE_STYLE, "prompt": "{{ mood }} sea"}, base=1)
    assert refused.value.details["variable"] == "mood"


def test_details_limits(team):
    editor = team.actor("editor")
    for details, code in (({"name": "x" * 121}, "template_name_too_long"), ({"name": "  "}, "template_name_required"),
                          ({"description": "d" * 1001}, "template_description_too_long"),
                          ({"tags": [f"t{i}" for i in range(21)]}, "template_too_many_tags"),
                          ({"tags": ["t" * 41]}, "template_tag_too_long"),
                          ({"kind": "poster"}, "template_kind_invalid")):
        with pytest.raises(ValidationFailed) as refused:
            make(editor, **details)
        assert refused.value.code == code
    assert make(editor, name="n" * 120, description="d" * 1000, tags=[f"t{i}" for i in range(20)])


def test_roles_and_other_workspaces(team):
    template_id = make(team.actor("editor"))
    for role in ("viewer", "approver"):
        with pytest.raises(Forbidden):
            make(team.actor(role))
        with pytest.raises(Forbidden):
            save(team.actor(role), template_id, EMAIL, base=1)
        with session_scope() as session:  # but they read it
            assert library.get_template(session=session, actor=team.actor(role), template_id=template_id)
    outsider = team.actor("outsider")
    with session_scope() as session, pytest.raises(NotFound):
        library.get_template(session=session, actor=outsider, template_id=template_id)
    with pytest.raises(NotFound):
        save(outsider, template_id, EMAIL, base=1)


def search(actor, **filters):
    with session_scope() as session:
        rows, total = library.search_templates(session=session, actor=actor, **filters)
        return [t.name for t in rows], total


def test_search_filters_sort_and_pages(team):
    editor = team.actor("editor")
    make(editor, name="Welcome", tags=["Onboarding"], category="Lifecycle", description="first mail")
    make(editor, name="Receipt", tags=["billing"], category="Transactional")
    make(editor, name="Autumn look", kind="image_style", tags=["seasonal", "café"])
    shipped = make(editor, name="Shipped 100%", category="Transactional")
    old = make(editor, name="Old promo", tags=["promo"])
    approve_latest(shipped)
    with session_scope() as session:
        library.archive_template(session=session, actor=editor, template_id=old)
    assert search(editor, query="WELC") == (["Welcome"], 1)
    assert search(editor, query="first") == (["Welcome"], 1)  # the description
    assert search(editor, query="onboard") == (["Welcome"], 1)  # a tag
    assert search(editor, query="100%") == (["Shipped 100%"], 1)  # % is a character, not a wildcard
    assert search(editor, tag="café") == (["Autumn look"], 1)
    assert search(editor, kind="image_style")[1] == 1
    assert sorted(search(editor, category="transactional")[0]) == ["Receipt", "Shipped 100%"]
    assert search(editor, status="active") == (["Shipped 100%"], 1)
    assert search(editor, status="archived") == (["Old promo"], 1)
    assert sorted(search(editor, status="has_draft")[0]) == ["Autumn look", "Receipt", "Welcome"]
    assert search(editor, sort="name") == (["Autumn look", "Receipt", "Shipped 100%", "Welcome"], 4)
    assert search(editor, sort="name", limit=2, offset=2) == (["Shipped 100%", "Welcome"], 4)
    assert search(team.actor("outsider")) == ([], 0)
    with pytest.raises(ValidationFailed):
        search(editor, status="published")


def test_duplicate_archive_and_compare(team):
    editor = team.actor("editor")
    template_id = make(editor, tags=["promo"])
    save(editor, template_id, edited("Hi"), base=1)
    with session_scope() as session:
        copy = library.duplicate_template(session=session, actor=editor, template_id=template_id)
        copy_id = copy.id
        assert copy.name == "Order shipped (copy)" and copy.tags == ["promo"] and copy.latest_number == 1
        diff = versions.compare(session=session, actor=editor, template_id=template_id, a=1, b=2)
        assert diff["added"] == 1 and diff["removed"] == 1 and not diff["same"]
        assert any(line.startswith("+") and "Hi" in line for line in diff["diff"])
        library.archive_template(session=session, actor=editor, template_id=template_id)
    with session_scope() as session:
        assert "Hi" in versions.get_version(session=session, actor=editor, template_id=copy_id,
                                            number=1).content["source"]
    with pytest.raises(Conflict) as archived:
        save(editor, template_id, EMAIL, base=2)
    assert archived.value.code == "template_archived"


def test_two_saves_from_the_same_base_at_once_one_wins(team):
    import threading

    editor, admin = team.actor("editor"), team.actor("admin")
    template_id = make(editor)
    barrier, outcomes = threading.Barrier(2), []

    def attempt(actor, word):
        barrier.wait()
        try:
            outcomes.append(save(actor, template_id, edited(word), base=1))
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(a, w)) for a, w in ((editor, "Hi"), (admin, "Hey"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == sorted([(2, 0, "draft"), "edit_conflict"], key=str)
    with session_scope() as session:
        assert [v.number for v in versions.list_versions(session=session, actor=editor, template_id=template_id)] \
            == [2, 1]


def test_deleting_the_workspace_takes_its_templates(team):
    from app.models import Notification, Template, TemplateComment, TemplateSample
    from app.services.workspaces import deletion

    editor = team.actor("editor")
    template_id = make(editor)
    with session_scope() as session:
        version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id)).one()
        session.add(TemplateApproval(version_id=version.id, stage=0, user_id=team.users["approver"].id, revision=0))
        question = TemplateComment(template_id=template_id, version_id=version.id, author_id=editor.id, body="Why?")
        session.add(question)
        session.flush()
        session.add(TemplateComment(template_id=template_id, version_id=version.id, author_id=editor.id,
                                    body="Because.", parent_id=question.id))
        session.add(TemplateSample(template_id=template_id, name="Ana", data={"order_id": "1"}))
        session.add(Notification(user_id=editor.id, workspace_id=team.workspace_id, kind="mention", title="Hi"))
    done = deletion.delete_workspace(actor=team.actor("owner"), workspace_id=team.workspace_id,
                                     confirm_name="Studio")
    assert done["rows"]["template"] == 1 and done["rows"]["template_comment"] == 2
    with session_scope() as session:
        for table in (Template, TemplateVersion, TemplateApproval, TemplateComment, TemplateSample, Notification):
            assert session.exec(select(table)).all() == [], table
