import pytest

from app import routes
from app.services.auth.sessions import COOKIE_NAME, safe_next, token_from_cookie_header


@pytest.mark.parametrize("raw, expected", [
    ("/settings", "/settings"),
    ("/admin/users?q=ada", "/admin/users?q=ada"),
    ("", "/dashboard"),
    ("https://evil.example/", "/dashboard"),
    ("//evil.example/path", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("/ok\r\nSet-Cookie: x=1", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
])
def test_safe_next_keeps_only_local_paths(raw, expected):
    assert safe_next(raw) == expected


def test_cookie_header_parsing(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "http://localhost:3000")
    from app.settings import get_settings

    get_settings.cache_clear()
    assert token_from_cookie_header(f"theme=dark; {COOKIE_NAME}=abc123; other=1") == "abc123"
    assert token_from_cookie_header("theme=dark") == ""
    assert token_from_cookie_header("") == ""
    assert token_from_cookie_header('bad="cookie') == ""
    get_settings.cache_clear()


def test_sign_in_url_keeps_private_destinations_only():
    assert routes.sign_in_url("/settings") == "/signin?next=/settings"
    assert routes.sign_in_url("/signin") == "/signin"
    assert routes.sign_in_url("/") == "/signin"


def test_page_urls_with_a_query_come_from_builders():
    import reflex as rx

    assert routes.rename_batch_url("12") == "/rename?batch=12"
    assert routes.rename_batch_url("a&b") == "/rename?batch=a%26b"
    # On a Var (a grid row's id) the builder makes a Var the browser evaluates.
    var = routes.rename_batch_url(rx.Var.create("12"))
    assert isinstance(var, rx.Var) and "?batch=" in str(var)
    assert routes.sign_in_after_reset_url() == "/signin?reset=1"
    assert routes.billing_return_url(41) == "/billing?after=41"


@pytest.mark.parametrize("name, expected", [
    ("Zoë Lindqvist", "ZL"),
    ("Zoë 😀 Lindqvist", "ZL"),  # the emoji had no glyph in the avatar: an empty box
    ("ada@example.com", "AE"),
    ("שלום עולם", "שע"),
    ("😀 ☕", "?"),
    ("", "?"),
    ("(Ops) team", "OT"),
])
def test_initials_are_letters(name, expected):
    from state.session import initials_of

    assert initials_of(name) == expected
