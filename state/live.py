"""The one job follower every page uses: the process's hub (app/job_hub.py) in, short state-lock sections out.

A page's follower copies what it needs under the state lock (`snapshot`), decides without the lock whether a
change concerns it and what to read (`prepare`), reads the database in a thread (through `read_scope`, so
readers never queue for SQLite's write lock or block the event loop), and applies the result under the lock
(`apply`, followed by the next snapshot in the same section: one lock section per change read, none for a
change that does not concern the page). Each read is told what changed (`Changes`: the job
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

# `snapshot` returns this to end the following (signed out, nothing open any more).
STOP = object()
# `apply` returns this when the page changed during the read: read everything again from a fresh snapshot.
AGAIN = object()
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


async def follow_jobs(state, *, workspace_id: int, snapshot: Callable[[], Any],
                      prepare: Callable[[Changes, Any], Callable[[], Any] | None], apply: Callable[[Any], Any],
                      reread_every: float = 5.0, full_every: float = 30.0, settle: float = 0.1,
                      idle: float | None = None, flag: str = "following") -> None:
    """Follow this workspace's job changes for the page of `state` until `apply` returns True, `snapshot`
    returns STOP, nothing was heard for `idle` seconds, or the page has been gone for GONE_GRACE seconds.

    - `snapshot()` runs under the state lock: it copies what the reads need from the page (or returns STOP).
      It is taken when following starts and after each `apply`, in the same lock section.
    - `prepare(changes, inputs)` runs without the lock: a function that reads (run in a thread), or None when
      the changes do not concern the page (then the state is not touched at all).
    - `apply(result)` runs under the lock: True ends the following; AGAIN says the page changed during the
      read (another batch opened, a new search): read everything again from a fresh snapshot.

    `snapshot` and `apply` may be coroutine functions (to reach another state with `get_state`).
    `state.following` (or the var `flag` names) is set while this runs, so a page starts one follower at most.
    Everything is re-read when following starts, when messages were lost, after `reread_every` quiet seconds
    and at least every `full_every` seconds (what the inputs knew may have moved on without a message).
    """
    async with state:
        if getattr(state, flag):
            return
        setattr(state, flag, True)
        token = _client_token(state)
        inputs = await _maybe_await(snapshot())
    hub = get_hub()
    now = time.monotonic()
    last_full = heard = checked = now
    gone_since: float | None = None
    try:
        async with hub.listen(workspace_id) as listener:
            changes: Changes | None = Changes(everything=True)  # a (re)opened page reads everything once
            while inputs is not STOP:
                read = prepare(changes, inputs) if changes is not None else None
                if read is not None:
                    try:
                        result = await asyncio.to_thread(read)
                    except AppError:  # what the page followed is gone (deleted, another workspace's now)
                        break
                    async with state:
                        outcome = await _maybe_await(apply(result))
                        inputs = STOP if outcome is True else await _maybe_await(snapshot())
                    if outcome is AGAIN:
                        changes = Changes(everything=True)
                        continue
                if changes is not None and changes.everything:
                    last_full = time.monotonic()
                now = time.monotonic()
                if inputs is STOP or (idle is not None and now - heard > idle):
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
                if time.monotonic() - last_full >= (full_every if changes is not None else reread_every):
                    # A publish can fail, and what the inputs knew may have moved on: the rows are the truth.
                    changes = Changes(jobs=changes.jobs if changes else [], everything=True)
    finally:
        async with state:
            setattr(state, flag, False)
