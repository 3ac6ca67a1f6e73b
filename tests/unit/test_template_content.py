"""Per-kind content checks, the line/variable carried in error details, plain-text prompts and accepting alt text."""

from __future__ import annotations

import pytest

from app.errors import NotFound, ValidationFailed
from app.services.templates import email
from app.services.templates.checks_service import _with_alt
from app.services.templates.content import check_content, with_location

SCHEMA = {"type": "object", "properties": {"subject": {"type": "string", "default": "a fox"}}}


def test_a_prompt_renders_without_html_escaping_and_refuses_like_a_source():
    assert email.render_text("{{ subject }} & <sun>", SCHEMA, {"subject": "cats & dogs"}) == "cats & dogs & <sun>"
    with pytest.raises(ValidationFailed) as refused:
        email.check_text("a\n{{ subject.__init__ }}", SCHEMA, limit=100, label="prompt")
    assert refused.value.code == "template_unsafe" and refused.value.message.startswith("Line 2 of the prompt")
    with pytest.raises(ValidationFailed) as too_long:
        email.check_text("x" * 101, SCHEMA, limit=100)
    assert too_long.value.code == "template_too_large"


def test_errors_carry_the_line_and_the_variable():
    exc = with_location(ValidationFailed("Line 7: “coupon” is used but not declared."))
    assert exc.details == {"line": 7, "variable": "coupon"}
    assert with_location(ValidationFailed("Variable “count”: 'x' is not of type 'integer'")).details == \
        {"variable": "count"}


@pytest.mark.parametrize("content, field", [
    ({"prompt": "", "schema": SCHEMA}, "prompt"),
    ({"prompt": "x", "settings": {"steps": 30}}, "settings.steps"),
    ({"prompt": "x", "settings": {"seed": -1}}, "settings.seed"),
    ({"prompt": 5}, "prompt"),
])
def test_image_style_content_names_the_field(content, field):
    with pytest.raises(ValidationFailed) as refused:
        check_content("image_style", content)
    assert refused.value.details["field"] == field


def test_slide_content_is_a_valid_outline():
    with pytest.raises(ValidationFailed) as refused:
        check_content("slide", {"outline": {"title": "x", "slides": []}})
    assert refused.value.code == "template_content_invalid" and refused.value.details["field"] == "slides"
    good = check_content("slide", {"outline": {"title": "Deck", "slides": [{"id": "s1", "title": "Hi"}]}})
    assert good["spec"]["topic"] == "Deck" and good["outline"]["slides"][0]["id"] == "s1"


def test_accepting_alt_text_sets_it_on_that_image_only():
    source = ('<mj-image src="https://a.example.com/1.png" />\n<mj-image alt="" src="https://a.example.com/2.png">'
              '</mj-image>\n<mj-image src="https://a.example.com/3.png" alt="kept" />')
    changed = _with_alt(source, "https://a.example.com/2.png", 'Two "quoted" boats')
    assert 'alt="Two &quot;quoted&quot; boats" src="https://a.example.com/2.png"' in changed
    assert '<mj-image src="https://a.example.com/1.png" />' in changed and 'alt="kept"' in changed
    added = _with_alt(source, "https://a.example.com/1.png", "One")
    assert '<mj-image src="https://a.example.com/1.png" alt="One" />' in added
    with pytest.raises(NotFound):
        _with_alt(source, "https://a.example.com/9.png", "x")
