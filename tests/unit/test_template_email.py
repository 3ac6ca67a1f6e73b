"""Email templates: MJML + Jinja2 sandbox, checks that name the line or the variable, the plain-text part."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.services.templates import email as em

SCHEMA = {"type": "object", "required": ["count"], "properties": {
    "name": {"type": "string", "default": "there"},
    "count": {"type": "integer", "minimum": 0},
    "items": {"type": "array", "items": {"type": "string"}},
}}
SOURCE = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-image src="https://example.com/logo.png" alt="Acme logo" />
        <mj-text>Hello {{ name }}, you have {{ count }} new <b>designs</b>.</mj-text>
        {% for item in items %}<mj-text>{{ item }}</mj-text>{% endfor %}
        <mj-button href="https://example.com/go">Open Atelier</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


def _refusal(source: str, data: dict | None = None, schema: dict = SCHEMA) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        em.check_source(source, schema) if data is None else em.render(source, schema, data)
    return refused.value


def test_renders_html_and_text_with_fallbacks_and_escaped_values():
    em.check_source(SOURCE, SCHEMA)
    out = em.render(SOURCE, SCHEMA, {"count": 3, "items": ["<script>alert(1)</script>", "Spring sale"]})
    assert "Hello there, you have 3 new" in out.html
    assert "&lt;script&gt;" in out.html and "<script>alert" not in out.html
    assert out.text.splitlines()[0] == "[Acme logo]"
    assert "Open Atelier (https://example.com/go)" in out.text and "Spring sale" in out.text
    assert out.size_bytes == len(out.html.encode()) and not out.clipped_by_gmail


@pytest.mark.parametrize(("change", "code", "says"), [
    (("{{ count }}", "{{ cnt }}"), "template_undeclared_variable", "Line 6: “cnt” is used but not declared"),
    (("</mj-column>", ""), "template_unbalanced", "Line 10: </mj-section> closes <mj-column> opened on line 4"),
    (("</mjml>", ""), "template_unbalanced", "Line 1: <mjml> is never closed"),
    (("{% endfor %}", ""), "template_syntax", "Line 7"),
    (("<mj-text>Hello", "<mj-text>{{ name.__class__.__mro__ }} Hello"), "template_unsafe", "__class__"),
])
def test_a_save_refuses_naming_the_line(change, code, says):
    refused = _refusal(SOURCE.replace(*change))
    assert refused.code == code and says in refused.message


def test_wrong_types_and_missing_required_values_name_the_variable():
    assert _refusal(SOURCE, {"count": "three"}).message.startswith("Variable “count”")
    assert "count" in _refusal(SOURCE, {"name": "Ana"}).message
    assert _refusal(SOURCE, {"count": -1}).code == "template_variable_invalid"


def test_loops_and_output_are_bounded():
    assert _refusal("{% for i in range(10**7) %}x{% endfor %}", {"count": 1}).code == "template_unsafe"
    nested = "{% for a in range(1000) %}{% for b in range(1000) %}{{ name }}{% endfor %}{% endfor %}"
    assert _refusal(nested, {"count": 1, "name": "x" * 50}).code == "template_output_too_large"


def test_size_depth_and_schema_limits():
    assert _refusal("<mjml>" + " " * em.MAX_SOURCE + "</mjml>").code == "template_too_large"
    deep = "<mjml><mj-body>" + "<mj-wrapper>" * 30 + "</mj-wrapper>" * 30 + "</mj-body></mjml>"
    assert _refusal(deep).code == "template_too_deep"
    assert _refusal(SOURCE, schema={"type": "object", "properties": {"Bad Name": {"type": "string"}}}).code == \
        "template_variables_invalid"
    assert "needs a type" in _refusal(SOURCE, schema={"type": "object", "properties": {"count": {}}}).message


def test_mjml_errors_are_refused():
    assert _refusal("<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>"
                    "</mj-body>").code in ("template_unbalanced", "template_mjml")


def _checks(body: str) -> dict:
    from app.services.templates import checks

    source = f"<mjml><mj-body><mj-section><mj-column>{body}</mj-column></mj-section></mj-body></mjml>"
    return {c.key: c for c in checks.run(em.render(source, {"type": "object"}, {}), source)}


def test_checks_pass_a_clean_email():
    found = _checks('<mj-image src="https://cdn.example.com/a.png" alt="A chair" />'
                    '<mj-button href="https://example.com/shop">Shop</mj-button>')
    assert all(c.ok for c in found.values()), [c.detail for c in found.values() if not c.ok]


@pytest.mark.parametrize("href", ["http://localhost:3000/x", "https://10.0.0.5/a", "http://169.254.169.254/",
                                  "https://printer.local/", "javascript:alert(1)", "http://intranet/",
                                  "https://[::1]/", "mailto:nobody"])
def test_links_to_private_or_broken_addresses_fail(href):
    found = _checks(f'<mj-button href="{href}">Go</mj-button>')
    assert not found["links"].ok and found["links"].items[0].startswith(href)


def test_images_without_alt_size_and_client_notes():
    found = _checks('<mj-image src="https://cdn.example.com/a.svg" />'
                    '<mj-text><div style="display:flex">x</div></mj-text>')
    assert not found["images_alt"].ok and found["images_alt"].items == ["https://cdn.example.com/a.svg"]
    notes = " ".join(found["compatibility"].items)
    assert "svg" in notes and "flexbox" in notes and not found["compatibility"].blocking
    big = _checks("<mj-text>" + "Lorem ipsum dolor sit amet. " * 4000 + "</mj-text>")
    assert not big["size"].ok and "Gmail will cut" in big["size"].detail
