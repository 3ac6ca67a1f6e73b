"""The pure parts of email picture links: the signed token, which addresses are library pictures, the tag the
picker inserts and where it goes."""

from __future__ import annotations

import hashlib

import pytest

from app.api.guard import is_limited
from app.services.templates import image_links, pictures
from app.settings import get_settings

KEY = {"workspace_id": 3, "asset_id": 41, "template_version_id": 7, "purpose": "approved"}


@pytest.fixture
def secret(monkeypatch):
    def use(value: str) -> None:
        monkeypatch.setenv("IMAGE_LINKS_SECRET", value)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_the_token_is_signed_by_the_secret_and_only_its_hash_is_kept(secret):
    secret("first secret of enough length for the test")
    token = image_links.token_for(**KEY)
    assert len(token) == 43 and image_links.token_for(**KEY) == token  # the same link, the same address
    others = {image_links.token_for(**{**KEY, name: value}) for name, value in
              (("workspace_id", 4), ("asset_id", 42), ("template_version_id", 8), ("purpose", "test_send"))}
    assert len(others) == 4 and token not in others
    assert image_links.hash_token(token) == hashlib.sha256(token.encode()).hexdigest() != token
    secret("another secret of enough length for the test")
    assert image_links.token_for(**KEY) != token


def test_member_only_addresses_are_found_relative_absolute_and_as_thumbnails():
    html = ('<img src="/api/v1/assets/5/download"><img src="https://old.example.com/api/v1/assets/9/thumbnail">'
            '<img src="/api/v1/assets/5/download"><img src="https://elsewhere.example.com/a.png">'
            '<a href="/api/v1/assets/12/downloads">x</a>')
    assert image_links.asset_ids_in(html) == [5, 9]
    swapped = image_links.MEMBER_SRC.sub("PUBLIC", html)
    assert swapped.count("PUBLIC") == 3 and "old.example.com" not in swapped


def test_the_public_route_is_rate_limited_like_the_rest_of_the_api():
    assert is_limited("/api/v1/public/images/" + "A" * 43)


def test_the_tag_escapes_the_alt_text_and_its_braces():
    tag = pictures.image_tag(12, '  A "quiet" <harbor> {{ x }} {% if %}  ')
    assert tag == ('<mj-image src="/api/v1/assets/12/download" alt="A &quot;quiet&quot; &lt;harbor&gt; '
                   '&#123;&#123; x &#125;&#125; &#123;% if %&#125;" />')
    assert pictures.image_tag(3, "") == '<mj-image src="/api/v1/assets/3/download" alt="" />'


def test_the_tag_goes_into_the_last_column_else_a_new_section_else_the_end():
    tag = '<mj-image src="/api/v1/assets/1/download" alt="" />'
    two_columns = ("<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n        <mj-text>A</mj-text>\n"
                   "      </mj-column>\n      <mj-column>\n        <mj-text>B</mj-text>\n      </mj-column>\n"
                   "    </mj-section>\n  </mj-body>\n</mjml>\n")
    out = pictures.insert_tag(two_columns, tag)
    assert out.index("<mj-text>B</mj-text>") < out.index(tag) < out.rindex("</mj-column>")
    assert out.replace(f"        {tag}\n", "") == two_columns
    empty_body = "<mjml>\n  <mj-body>\n  </mj-body>\n</mjml>\n"
    assert pictures.insert_tag(empty_body, tag) == (
        "<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n        " + tag +
        "\n      </mj-column>\n    </mj-section>\n  </mj-body>\n</mjml>\n")
    assert pictures.insert_tag("", tag) == tag + "\n"


def test_a_link_as_the_page_lists_it():
    from app.services.templates.view import link_row

    link = {"id": 4, "filename": "harbor.jpg", "version": 3, "purpose": "test_send", "created_by_email": "",
            "created_at": "2026-12-06T23:41:07.123456", "active": False, "revoked_reason": "asset_deleted"}
    assert link_row(link) == {"id": "4", "filename": "harbor.jpg", "version": "3", "purpose": "Test send",
                              "created_by": "someone removed", "created_at": "2026-12-06 23:41",
                              "status": "Picture deleted", "active": ""}
    assert link_row({**link, "active": True})["status"] == "Live"


def test_the_links_check_accepts_library_pictures_but_not_other_relative_addresses():
    from app.services.templates import checks, email

    source = ('<mjml><mj-body><mj-section><mj-column>'
              '<mj-image src="/api/v1/assets/7/download" alt="Harbor" />'
              '<mj-image src="/api/v1/assets/7/download/../../../admin" alt="x" />'
              '<mj-image src="/images/logo.png" alt="Logo" />'
              '</mj-column></mj-section></mj-body></mjml>')
    rendered = email.render(source, {}, {})
    (links,) = [c for c in checks.run(rendered, source) if c.key == "links"]
    assert not links.ok
    assert [item.split(":")[0] for item in links.items] == ["/api/v1/assets/7/download/../../../admin",
                                                            "/images/logo.png"]
