"""The template pages' logic that lives outside Reflex (app/services/templates/view.py)."""

from __future__ import annotations

import dataclasses

from app.services.templates import checks, email
from app.services.templates.view import (
    STARTER_SCHEMA,
    STARTER_SOURCE,
    check_row,
    checklist,
    diff_rows,
    error_line,
    folded,
    form_values,
    open_proposals,
    outline_rows,
    parse_schema,
    sample_fields,
    source_excerpt,
    starter_content,
    status_text,
    typed_data,
    with_alt,
)


def test_the_starter_email_saves_renders_and_passes_the_blocking_checks():
    email.check_source(STARTER_SOURCE, STARTER_SCHEMA)
    rendered = email.render(STARTER_SOURCE, STARTER_SCHEMA, {"first_name": "Ada"})
    assert "Hello Ada," in rendered.html and "Hello Ada," in rendered.text
    assert len(STARTER_SCHEMA["properties"]) == 2
    failing = [c.key for c in checks.run(rendered, STARTER_SOURCE) if c.blocking and not c.ok]
    assert failing == []
    assert starter_content("email")["source"] == STARTER_SOURCE
    style = starter_content("image_style")
    style["schema"]["properties"].clear()  # a copy: the next template still starts with its variable
    assert starter_content("image_style")["schema"]["properties"]


def test_status_line_names_the_active_version_and_a_newer_one():
    assert status_text(active_number=None, latest_status="", latest_number=0) == "No versions yet"
    assert status_text(active_number=None, latest_status="draft", latest_number=1) == "v1 draft"
    assert status_text(active_number=2, latest_status="approved", latest_number=2) == "v2 active"
    assert status_text(active_number=2, latest_status="in_review", latest_number=3) == "v2 active · v3 in review"
    assert status_text(active_number=1, latest_status="rejected", latest_number=4) == "v1 active · v4 rejected"


def test_an_error_naming_a_line_shows_that_line_with_its_neighbours():
    source = "a\nb\nc\nd"
    assert error_line("Line 3: </mj-text> closes nothing.") == 3
    assert error_line("The variables are not valid") == 0
    rows = source_excerpt(source, 3)
    assert [(r["number"], r["text"], r["bad"]) for r in rows] == [("2", "b", ""), ("3", "c", "yes"), ("4", "d", "")]
    assert source_excerpt(source, 9) == [] and source_excerpt(source, 0) == []


def test_a_real_unbalanced_tag_error_points_at_its_line():
    broken = STARTER_SOURCE.replace("</mj-column>", "", 1)
    try:
        email.check_source(broken, STARTER_SCHEMA)
    except Exception as exc:  # ValidationFailed
        line = error_line(exc.message)
    assert line > 0
    assert any(r["bad"] == "yes" for r in source_excerpt(broken, line))


def test_diff_numbers_both_sides_and_folds_unchanged_runs():
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 10", "line ten") + "\nline 21"
    rows = diff_rows(old, new)
    assert {"kind": "del", "old": "10", "new": "", "text": "line 10"} in rows
    assert {"kind": "add", "old": "", "new": "10", "text": "line ten"} in rows
    assert rows[-1] == {"kind": "add", "old": "", "new": "21", "text": "line 21"}
    short = folded(rows)
    assert len(short) < len(rows)
    assert short[0]["kind"] == "fold" and short[0]["text"] == "…"
    assert folded(diff_rows(old, old)) == []


def test_sample_form_round_trips_typed_values():
    schema = {"type": "object", "properties": {
        "name": {"type": "string", "title": "Name", "default": "there"}, "count": {"type": "integer"},
        "price": {"type": "number"}, "vip": {"type": "boolean"}, "items": {"type": "array"}}}
    values = form_values(schema, {"count": 3, "vip": True, "items": ["a", "b"]})
    assert values == {"name": "there", "count": "3", "price": "", "vip": "true", "items": "a, b"}
    assert typed_data(schema, values) == {"name": "there", "count": 3, "vip": True, "items": ["a", "b"]}
    # Not a number stays text, so the render's error names the variable.
    assert typed_data(schema, {"count": "three", "price": "1.5"}) == {"count": "three", "price": 1.5}
    fields = {f["name"]: f for f in sample_fields(schema, values)}
    assert fields["vip"]["kind"] == "boolean" and fields["count"]["kind"] == "integer"
    assert "commas" in fields["items"]["description"]


def test_the_variables_box_names_the_line_of_bad_json():
    assert parse_schema('{"type": "object"}') == ({"type": "object"}, "")
    schema, problem = parse_schema('{\n  "type": "object",\n  "properties": {,}\n}')
    assert schema is None and problem.startswith("Line 3:")
    assert parse_schema("[1, 2]") == (None, "The variables must be a JSON object.")


def test_accepting_an_alt_proposal_writes_it_into_that_image_only():
    source = ('<mj-image src="https://cdn.example.com/a.png" />\n'
              '<mj-image src="https://cdn.example.com/b.png" alt="" width="200px" />\n'
              '<mj-image src="https://cdn.example.com/c.png" alt="Kept" />')
    out = with_alt(source, "https://cdn.example.com/a.png", 'A "blue" vase')
    assert '<mj-image src="https://cdn.example.com/a.png" alt="A &quot;blue&quot; vase" />' in out
    out = with_alt(out, "https://cdn.example.com/b.png", "A lake")
    assert 'src="https://cdn.example.com/b.png" alt="A lake" width="200px"' in out
    assert with_alt(out, "https://cdn.example.com/c.png", "Other") == out
    rendered = email.render(f"<mjml><mj-body><mj-section><mj-column>{out}</mj-column></mj-section></mj-body></mjml>",
                            {"type": "object", "properties": {}}, {})
    alt_check = next(c for c in checks.run(rendered, out) if c.key == "images_alt")
    assert alt_check.ok


def test_checklist_puts_stored_proposals_on_the_live_alt_check_and_keeps_service_only_checks():
    html = '<mjml><mj-body><mj-section><mj-column><mj-image src="https://cdn.example.com/a.png" />' \
           '</mj-column></mj-section></mj-body></mjml>'
    live = [check_row(dataclasses.asdict(c)) for c in checks.run(email.render(html, {}, {}), html)]
    saved = [check_row({"key": "images_alt", "label": "Every image has alt text", "ok": False,
                        "proposals": [{"src": "https://cdn.example.com/a.png", "alt": "A vase"}, {"src": "x"}]}),
             check_row({"key": "moderation", "label": "Moderation policy", "ok": True, "detail": "Nothing flagged"})]
    rows = checklist(live, saved)
    alt = next(r for r in rows if r["key"] == "images_alt")
    assert alt["ok"] == "" and alt["proposals"] == [{"src": "https://cdn.example.com/a.png", "alt": "A vase"}]
    assert rows[-1]["key"] == "moderation" and rows[-1]["ok"] == "yes"
    assert [r["key"] for r in rows].count("images_alt") == 1


def test_a_proposal_drops_out_once_its_image_has_alt_text():
    proposals = [{"src": "/api/v1/assets/7/download", "alt": "A vase"}, {"src": "/api/v1/assets/8/download",
                                                                         "alt": "A lake"}]
    source = '<mj-image src="/api/v1/assets/7/download" alt="Mine" /><mj-image src="/api/v1/assets/8/download" />'
    assert open_proposals(source, proposals) == proposals[1:]
    assert open_proposals(with_alt(source, proposals[1]["src"], "A lake"), proposals) == []


def test_slide_outline_rows():
    rows = outline_rows({"outline": {"slides": [{"title": "Hello", "layout": "title"}, {"layout": "bullets"}]}})
    assert rows == [{"number": "1", "title": "Hello", "layout": "title"},
                    {"number": "2", "title": "(untitled)", "layout": "bullets"}]
    assert outline_rows({}) == []


def test_template_urls():
    from app import routes

    assert routes.after_switch("/templates/12") == routes.TEMPLATES  # another workspace's template is not there
    assert routes.templates_search_url({"q": "spring news", "kind": "email", "tag": ""}) == \
        "/templates?q=spring+news&kind=email"
    assert routes.templates_search_url({"q": ""}) == "/templates"
    assert routes.template_url("7") == "/templates/7"
    assert routes.slides_deck_url("3") == "/slides?deck=3" and routes.generate_style_url("4") == \
        "/generate?style_template=4"
