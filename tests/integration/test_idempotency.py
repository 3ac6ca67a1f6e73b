"""Idempotency-Key: the same request sent twice (at once, or again later) starts one job and
charges once; the same key with another body is refused. The Generate page's button is guarded
the same way, with a key per click."""

import threading

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from app.db import session_scope
from app.models import CreditEntry, Generation, Job
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register

BODY = {"prompt": "a calm forest morning", "n": 2}


@pytest.fixture
def priced(api, any_db, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 3}')
    monkeypatch.setenv("MONTHLY_FREE_CREDITS", "100")
    clear_caches()
    register(api)
    login(api)
    return api


def counts() -> tuple[int, int, int]:
    with session_scope() as session:
        return (session.exec(select(func.count()).select_from(Generation)).one(),
                session.exec(select(func.count()).select_from(Job).where(Job.kind == "generate.images")).one(),
                session.exec(select(func.count()).select_from(CreditEntry)
                             .where(CreditEntry.kind == "reserve")).one())


def post(client, key, body=BODY, path="/api/v1/images/generations"):
    return client.post(path, json=body, headers={**ORIGIN, "Idempotency-Key": key})


def test_two_identical_requests_at_once_start_one_generation_and_charge_once(priced):
    clients = [TestClient(priced.app, base_url="http://localhost:3000", cookies=dict(priced.cookies))
               for _ in range(2)]
    barrier, answers = threading.Barrier(2), [None, None]

    def send(i):
        barrier.wait()
        answers[i] = post(clients[i], "click-1")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted("idempotent-replayed" in a.headers for a in answers) == [False, True]
    assert counts() == (1, 1, 1)
    assert priced.get("/api/v1/credits").json()["balance"] == 100 - 6


def test_a_replay_gets_the_first_answer_and_another_body_is_refused(priced):
    first = post(priced, "k-1")
    assert first.status_code == 202
    again = post(priced, "k-1")
    assert (again.status_code, again.json()) == (202, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert_error(post(priced, "k-1", body={**BODY, "n": 1}), 422, "idempotency_key_reused")
    assert counts() == (1, 1, 1)
    # A new key is a new request; no key at all is never deduplicated.
    assert post(priced, "k-2").status_code == 202
    assert priced.post("/api/v1/images/generations", json=BODY, headers=ORIGIN).status_code == 202
    assert counts() == (3, 3, 3)


def test_keys_are_per_user(priced):
    assert post(priced, "shared").status_code == 202
    other = TestClient(priced.app, base_url="http://localhost:3000")
    register(other, email="grace@example.com")
    login(other, email="grace@example.com")
    answer = post(other, "shared")
    assert answer.status_code == 202 and "idempotent-replayed" not in answer.headers
    assert counts() == (2, 2, 2)


def test_a_refusal_is_replayed_and_a_bad_key_is_422(priced, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 300}')
    clear_caches()
    refused = post(priced, "poor")
    assert_error(refused, 402, "insufficient_credits")
    assert post(priced, "poor").json() == refused.json()
    assert_error(post(priced, "x" * 300), 422, "invalid_idempotency_key")
    assert counts()[1] == 0


def test_variations_honour_the_key(priced):
    from tests.integration.test_generation import run_jobs

    generation = post(priced, "g").json()
    run_jobs()
    path = f"/api/v1/images/generations/{generation['id']}/variations"
    first, second = post(priced, "v", body={}, path=path), post(priced, "v", body={}, path=path)
    assert first.status_code == 202 and first.json() == second.json()
    assert counts() == (2, 2, 2)


def test_rename_batches_workflow_runs_and_decks_honour_the_key(priced):
    from tests import images
    from tests.integration.test_rename import run_jobs, upload

    sources = [a["id"] for a in upload(priced, [(f"i{i}.jpg", images.jpeg(80, 60, seed=i), "image/jpeg")
                                                for i in range(2)])]
    run_jobs()

    def twice(path, body, key):
        first, second = post(priced, key, body=body, path=path), post(priced, key, body=body, path=path)
        assert first.status_code in (201, 202), first.text
        assert (second.status_code, second.json()) == (first.status_code, first.json())
        return first.json()

    def jobs_of(kind):
        with session_scope() as session:
            return session.exec(select(func.count()).select_from(Job).where(Job.kind == kind)).one()

    twice("/api/v1/rename/batches", {"asset_ids": sources}, "r")
    assert len(priced.get("/api/v1/rename/batches").json()["batches"]) == 1
    twice("/api/v1/workflows/rotate_flip/runs", {"asset_ids": sources, "params": {"angle": 90}}, "w")
    assert jobs_of("workflows.run") == 1
    deck = twice("/api/v1/slides", {"source_text": "# Cycling\n\n## Why\n\nIt is good.", "slides": 3}, "d")
    run_jobs()
    twice(f"/api/v1/slides/{deck['id']}/generate", {}, "dg")
    assert jobs_of("slides.run") == 1  # the deck was made from a document: no planning job


def test_a_request_refused_as_cross_site_does_not_use_up_its_key(priced):
    refused = priced.post("/api/v1/images/generations", json=BODY,
                          headers={"Origin": "http://evil.example", "Idempotency-Key": "k-x"})
    assert_error(refused, 403, "foreign_origin")
    assert post(priced, "k-x").status_code == 202
    assert counts() == (1, 1, 1)
