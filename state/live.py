"""The one job follower every page uses: the process's hub (app/job_hub.py) in, short state-lock sections out.

A page's follower copies what it needs under the state lock (`prepare`), reads the database in a thread with
the lock released (through `read_scope`, so readers never queue for SQLite's write lock or block the event loop),
and applies the result under the lock again (`apply`). Each read is told what changed (`Changes`: the job
changes, with their parameters naming batches, runs, decks or pictures) so it re-reads only those rows; it is
told to re-read everything when it starts, when messages were lost, and now and then when nothing is heard.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

from app.errors import AppError
from app.job_hub import Changes, get_hub

# `prepare` returns this to end the following (signed out, nothing open any more).
STOP = object()
# Seconds a page may be gone (a reload, a reconnect) before its follower ends.
GONE_GRACE = 10.0
# Seconds between checks that the page is still open.
GONE_CHECK = 2.0


async def _maybe_await(value):
    return await value if inspect.isawaitable(value) else value


def _client_token(state) -> str:
    """The browser tab's token (read under the state lock: a background event may not read state outside it)."""
    try:
        return state.router.session.client_token or ""
    except AttributeError:
        return ""


async def page_open(token: str) -> bool:
    """Whether the browser tab of `token` still has a socket (on any backend worker); True when unknown."""
    if not token:
        return True
    try:
        from reflex_base.registry import RegistrationContext

        namespace = RegistrationContext.get().app.event_namespace
    except Exception:  # no app around (a script, a test): nobody can say the page went away
        return True
    if namespace is None:
        return True
    return await namespace._token_manager.is_token_connected(token)


async def follow_jobs(state, *, workspace_id: int, prepare: Callable[[Changes], Any],
                      apply: Callable[[Any], bool], reread_every: float = 5.0, settle: float = 0.1,
                      idle: float | None = None, flag: str = "following") -> None:
    """Follow this workspace's job changes for the page of `state` until `apply` returns True, `prepare`
    returns STOP, nothing was heard for `idle` seconds, or the page has been gone for GONE_GRACE seconds.

    `prepare(changes)` runs under the state lock: it copies inputs and returns a function that reads (run in a
    thread, outside the lock), None when the changes do not concern the page, or STOP. `apply(result)` runs
    under the lock. Either may be a coroutine function (to reach another state with `get_state`).
    `state.following` (or the var `flag` names) is set while this runs, so a page starts one follower at most.
    """
    async with state:
        if getattr(state, flag):
            return
        setattr(state, flag, True)
        token = _client_token(state)
    hub = get_hub()
    now = time.monotonic()
    last_full = heard = checked = now
    gone_since: float | None = None
    try:
        async with hub.listen(workspace_id) as listener:
            changes: Changes | None = Changes(everything=True)  # a (re)opened page reads everything once
            while True:
                if changes is not None:
                    async with state:
                        read = await _maybe_await(prepare(changes))
                    if read is STOP:
                        break
                    if read is not None:
                        try:
                            result = await asyncio.to_thread(read)
                        except AppError:  # what the page followed is gone (deleted, another workspace's now)
                            break
                        async with state:
                            if await _maybe_await(apply(result)):
                                break
                    if changes.everything:
                        last_full = time.monotonic()
                now = time.monotonic()
                if idle is not None and now - heard > idle:
                    break
                if now - checked >= GONE_CHECK:
                    checked = now
                    if await page_open(token):
                        gone_since = None
                    elif gone_since is None:
                        gone_since = now
                    elif now - gone_since > GONE_GRACE:
                        break
                changes = await listener.next(timeout=min(GONE_CHECK, reread_every))
                if changes is not None:
                    heard = time.monotonic()
                    if settle:
                        await asyncio.sleep(settle)  # a burst of progress messages: one read is enough
                        changes = changes.merge(listener.drain())
                elif time.monotonic() - last_full >= reread_every:
                    changes = Changes(everything=True)  # a publish can fail: the rows are the truth
    finally:
        async with state:
            setattr(state, flag, False)
