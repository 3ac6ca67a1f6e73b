"""`signed_in` and `admin_only` (state/session.py) on a real State class, with real sessions in SQLite.

The decorated handler takes `user` after `self`; Reflex must see (and type) only the other parameters,
and the guard must turn away a visitor with no session, or a member on an admin page.
"""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from reflex_base.event.processor.base_state_processor import _prepare_event_payload

from app import routes
from app.db import session_scope
from app.services.auth import accounts
from app.services.auth.accounts import UserPublic
from app.services.auth.sessions import COOKIE_NAME, create_session
from state.session import SessionState, admin_only, signed_in


class GuardProbeState(rx.State):
    # What the last handler saw: the user's email, then its arguments.
    seen: list[str] = []

    @rx.event
    @signed_in
    async def handle_pick(self, user: UserPublic, value: str, count: int):
        self.seen = [user.email, value, str(count), type(count).__name__]

    @rx.event
    @signed_in
    async def stream(self, user: UserPublic, rounds: int):
        for n in range(rounds):
            yield rx.toast.info(f"{user.email} {n}")

    @rx.event
    @admin_only
    async def admin_thing(self, admin: UserPublic):
        self.seen = [admin.email, "admin"]


def _probe(cookie: str, path: str = "/assets") -> GuardProbeState:
    root = rx.State(_reflex_internal_init=True)
    headers = {"cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
    root.router = RouterData.from_router_data({"headers": headers, "pathname": path, "asPath": path})
    return root.substates[GuardProbeState.get_name()]


@pytest.fixture
def people(env):
    """Two accounts: the first (a site admin, as the first account always is) and a member; a session each."""
    with session_scope() as session:
        admin = accounts.register_user(session=session, email="ada@example.com", password="correct horse 1")
        member = accounts.register_user(session=session, email="bob@example.com", password="correct horse 2")
        cookies = {"admin": create_session(session=session, user_id=admin.id),
                   "member": create_session(session=session, user_id=member.id)}
    assert admin.role == "admin" and member.role != "admin"
    return cookies


def test_reflex_sees_the_parameters_without_user_and_still_types_them():
    handler = GuardProbeState.event_handlers["handle_pick"]
    assert list(handler._parameters) == ["self", "value", "count"]
    assert handler._get_type_hints() == {"value": str, "count": int}
    # The page sends strings; the hints still turn "3" into 3 on the way in.
    assert _prepare_event_payload(handler, {"value": "x", "count": "3"}) == {"value": "x", "count": 3}
    spec = GuardProbeState.handle_pick("a", 3)
    assert [str(name) for name, _ in spec.args] == ["value", "count"]
    assert list(GuardProbeState.event_handlers["admin_thing"]._parameters) == ["self"]


def test_the_decorator_refuses_a_handler_it_cannot_guard():
    with pytest.raises(TypeError, match="must be `user`"):
        signed_in(lambda self, value: None)

    def plain(self, user):
        return None
    with pytest.raises(TypeError, match="must be async"):
        signed_in(plain)


async def test_a_signed_in_user_reaches_the_handler(people):
    probe = _probe(people["member"])
    assert await GuardProbeState.handle_pick.fn(probe, "blue", 3) is None
    assert probe.seen == ["bob@example.com", "blue", "3", "int"]
    # The shared header state was refreshed on the way.
    shared = await probe.get_state(SessionState)
    assert shared.email == "bob@example.com" and shared.signed_in


async def test_no_session_goes_to_sign_in_and_the_handler_never_runs(people):
    for cookie in ("", "not-a-session"):
        probe = _probe(cookie, path="/assets")
        away = await GuardProbeState.handle_pick.fn(probe, "blue", 3)
        assert probe.seen == []
        assert isinstance(away, rx.event.EventSpec)
        assert routes.sign_in_url("/assets") in str(away.args)


async def test_a_generator_handler_is_guarded_too(people):
    events = [e async for e in GuardProbeState.stream.fn(_probe(people["admin"]), 2)]
    assert ["ada@example.com 0" in str(events[0].args), "ada@example.com 1" in str(events[1].args)] == [True, True]
    away = [e async for e in GuardProbeState.stream.fn(_probe(""), 2)]
    assert len(away) == 1 and routes.sign_in_url("/assets") in str(away[0].args)


async def test_admin_only_lets_admins_in_and_sends_members_to_the_dashboard(people):
    probe = _probe(people["admin"], path=routes.ADMIN_USERS)
    assert await GuardProbeState.admin_thing.fn(probe) is None
    assert probe.seen == ["ada@example.com", "admin"]

    probe = _probe(people["member"], path=routes.ADMIN_USERS)
    away = await GuardProbeState.admin_thing.fn(probe)
    assert probe.seen == []
    assert routes.DASHBOARD in str(away[0].args) and "admins only" in str(away[1].args)

    probe = _probe("", path=routes.ADMIN_USERS)
    away = await GuardProbeState.admin_thing.fn(probe)
    assert routes.sign_in_url(routes.ADMIN_USERS) in str(away.args)
