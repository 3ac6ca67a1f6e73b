"""Authenticated read vs the health check, and what the role check costs of it.

The production ASGI stack (security headers, body limit, JSON depth, idempotency, the API's routing and
dependencies) is called in-process with a bare ASGI scope, so the figures are the server's own CPU time, not
an HTTP client's. Variants, interleaved round by round on one migrated SQLite database and a private Redis:

- `health`: GET /health (no credentials, no database) — our counterpart of Reflex's `/ping`, which lives
  in Reflex's own app, outside the API;
- `checked`: GET /api/v1/collections with a bearer token acting in a team workspace where the caller is an
  editor — the route as shipped, with `requires("work.read")`;
- `unchecked`: the same endpoint with the same router dependencies but no `requires(...)` (the route before
  this change);
- `constant`: `checked` with `permissions.allowed` and `scope_allows` patched to return True (what the
  matrix lookup itself costs, apart from the dependency).

Each variant's figure is its best round (a shared machine only ever adds time). ratio = unchecked / checked
time per request (≥ 0.95: the role check costs at most 5 % of an authenticated
read). Also printed: each read against `health`, before (unchecked) and after (checked).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import Environment, print_table, write_result

TARGET = 0.95


def _build():
    from app.api import build_api, routes_library
    from app.api.middleware import BodyLimit, SecurityHeaders

    # The same endpoint beside the shipped one (same router, so the same router dependencies and nearly the
    # same place in route matching), without its requires(...).
    routes_library.router.add_api_route("/bench-unchecked/collections", routes_library.list_collections,
                                        methods=["GET"])
    return SecurityHeaders(BodyLimit(build_api()))


def _caller() -> str:
    from app.db import session_scope
    from app.models import Membership
    from app.services.auth import accounts, api_tokens
    from app.services.library import collections
    from app.services.workspaces.service import create_team

    with session_scope() as session:
        owner = accounts.register_user(session=session, email="owner@example.com", password="correct horse 1")
        editor = accounts.register_user(session=session, email="editor@example.com", password="correct horse 2")
        team = create_team(session=session, user_id=owner.id, name="Studio").id
        session.add(Membership(workspace_id=team, user_id=editor.id, role="editor"))
        _, secret = api_tokens.create_token(session=session, user_id=editor.id, name="bench", workspace_id=team)
    for n in range(5):
        collections.create(workspace_id=team, name=f"Shelf {n}")
    return secret


async def _hit(app, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    status = 0

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("localhost", 3000)}
    await app(scope, receive, send)
    return status


async def _round(app, path: str, headers, count: int) -> float:
    """CPU seconds of this process per request over `count` requests.

    CPU time, not wall time: on a shared machine the neighbours' load stretches wall time by tens of percent,
    far more than the few percent measured here; this process's own CPU time (all its threads, the
    threadpool that runs sync endpoints included) moves much less."""
    start = time.process_time()
    for _ in range(count):
        status = await _hit(app, path, headers)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return (time.process_time() - start) / count


async def _measure(rounds: int, count: int) -> dict[str, float]:
    from unittest import mock

    from app.services.workspaces import permissions

    app = _build()
    auth = [(b"host", b"localhost:3000"), (b"authorization", f"Bearer {_caller()}".encode())]
    variants = {
        "health": ("/health", [(b"host", b"localhost:3000")]),
        "checked": ("/api/v1/collections", auth),
        "unchecked": ("/api/v1/bench-unchecked/collections", auth),
    }
    times: dict[str, list[float]] = {name: [] for name in (*variants, "constant")}
    for path, headers in variants.values():  # warm every path (imports, caches, the connection pool)
        await _round(app, path, headers, 20)
    for n in range(rounds):
        # Alternate the order, so a slow stretch of a shared machine does not land on one variant.
        order = list(variants) + ["constant"]
        if n % 2:
            order.reverse()
        for name in order:
            if name == "constant":
                with mock.patch.object(permissions, "allowed", lambda *_: True), \
                        mock.patch.object(permissions, "scope_allows", lambda *_: True):
                    times[name].append(await _round(app, *variants["checked"], count))
            else:
                times[name].append(await _round(app, *variants[name], count))
    # The best round of each: on a shared machine, slower rounds measure the neighbours, not the code.
    return {name: min(values) for name, values in times.items()}


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--count", type=int, default=200, help="requests per variant per round")
    args = parser.parse_args()
    with Environment():
        t = asyncio.run(_measure(args.rounds, args.count))
    ms = {name: round(value * 1000, 3) for name, value in t.items()}
    check_share = (t["checked"] - t["unchecked"]) / t["checked"]
    result = write_result(
        "auth_read_role_check", t["unchecked"] / t["checked"], TARGET,
        ms_per_request=ms, role_check_share=round(check_share, 4),
        matrix_lookup_share=round((t["checked"] - t["constant"]) / t["checked"], 4),
        read_vs_health_before=round(t["unchecked"] / t["health"], 2),
        read_vs_health_after=round(t["checked"] / t["health"], 2),
        rounds=args.rounds, requests_per_round=args.count)
    print_table([result])
    print({k: v for k, v in result.items() if k not in ("name", "ratio", "target", "passed")})
    return result


if __name__ == "__main__":
    main()
