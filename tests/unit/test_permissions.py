"""The permission matrix as data: the docs table, scopes and the role check's answers."""

from pathlib import Path

import pytest

from app.errors import ValidationFailed
from app.services.workspaces import permissions

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_the_docs_table_is_generated_from_the_matrix():
    assert DOC.read_text() == permissions.markdown(), (
        "docs/permissions.md is stale: python -m app.services.workspaces.permissions > docs/permissions.md")


def test_every_action_is_described_for_the_docs():
    assert set(permissions.ACTION_HELP) == set(permissions.ACTIONS)


@pytest.mark.parametrize(("scopes", "action", "allowed"), [
    (None, "workspace.delete", True),  # a token from before scopes: full access
    (("read",), "work.read", True),
    (("read",), "assets.write", False),
    (("write",), "assets.write", True),
    (("write",), "members.manage", False),
    (("admin",), "members.manage", True),
    (("rename:write",), "rename.write", True),
    (("rename:write",), "assets.write", False),
    (("rename:write",), "work.read", False),  # a product scope does not read: add `read`
    (("read", "rename:write"), "work.read", True),
    (("read", "write"), "account.manage", False),  # minting tokens needs `admin`
])
def test_scopes(scopes, action, allowed):
    assert permissions.scope_allows(scopes, action) is allowed


def test_clean_scopes_refuses_unknown_and_empty():
    assert permissions.clean_scopes([" Read", "rename:write", "read"]) == ("read", "rename:write")
    for bad in (["everything"], []):
        with pytest.raises(ValidationFailed):
            permissions.clean_scopes(bad)


def test_an_unknown_action_is_never_allowed():
    with pytest.raises(KeyError):
        permissions.allowed("owner", "assets.wirte")
