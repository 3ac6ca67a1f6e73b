"""Ids from a page's query string or a forged event are parsed as 64-bit ids, never raised on."""

import types

import pytest

from app.db import session_scope
from app.ids import MAX_ID, parse_id
from app.services.auth.sessions import COOKIE_NAME, create_session
from state.rename import RenameState
from tests.integration.test_accounts import register
from tests.integration.test_state_guards import FakeState


@pytest.mark.parametrize(("raw", "expected"), [
    ("7", 7), (str(MAX_ID), MAX_ID), (str(2**63), 0), (str(2**64), 0), ("9" * 5000, 0), ("-1", 0), ("0", 0),
    ("abc", 0), ("", 0), (None, 0), ("١٢", 0), (" 12 ", 12), ("1e3", 0),
])
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


class RenamePage(FakeState):
    """FakeState plus the Rename state's own helpers, bound to it."""

    def __init__(self, cookie: str, batch: str):
        super().__init__(cookie)
        self.router.url.query_parameters = {"batch": batch}
        self.router.url.path = "/rename"
        self.following = False
        self.library_query, self.include_derived = "", False  # the picker's search
        self.provider, self.provider_picked = "local", False  # the analyzer choice _load_lists settles
        for name in ("_load_lists", "_load_batch", "_show_batch"):
            setattr(self, name, types.MethodType(getattr(RenameState, name), self))


@pytest.mark.parametrize("batch", [str(2**63), str(2**64), "9" * 400, "1"])
async def test_rename_page_with_a_huge_batch_number_opens_with_no_batch(env, any_db, batch):
    user = register("ada@example.com")
    with session_scope() as session:
        cookie = f"{COOKIE_NAME}={create_session(session=session, user_id=user.id)}"
    page = RenamePage(cookie, batch)
    await RenameState.event_handlers["load_page"].fn(page)
    assert page.batch_id == 0 and page.library == []
