"""The renamer's monthly quota is held like credits: a refused or failed batch gives it back."""

import pytest

from app.services import jobs
from tests import images
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register
from tests.integration.test_rename import run_jobs, upload


@pytest.fixture
def priced(api, any_db, monkeypatch):
    """Quota 10 images a month; a local rename costs 1 credit an image; 3 free credits."""
    from tests.conftest import clear_caches

    monkeypatch.setenv("RENAME_MONTHLY_IMAGES", "10")
    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 1}')
    monkeypatch.setenv("MONTHLY_FREE_CREDITS", "3")
    clear_caches()
    register(api)
    login(api)
    return api


def _assets(api, count, seed=0):
    assets = upload(api, [(f"q{seed + i}.jpg", images.jpeg(60, 60, seed=seed + i), "image/jpeg")
                          for i in range(count)])
    run_jobs()
    return [a["id"] for a in assets]


def _batch(api, asset_ids):
    return api.post("/api/v1/rename/batches", headers=ORIGIN, json={"asset_ids": asset_ids})


def test_batches_refused_for_credits_give_their_quota_back(priced):
    four = _assets(priced, 4)
    for _ in range(3):  # 3 × 4 images would be 12 of the 10 a month if refusals kept their quota
        assert_error(_batch(priced, four), 402, "insufficient_credits")
    three = _assets(priced, 3, seed=10)
    accepted = _batch(priced, three)
    assert accepted.status_code == 201, accepted.text
    eight = _assets(priced, 8, seed=20)
    refused = _batch(priced, eight)
    assert_error(refused, 403, "quota_exceeded")
    assert "only 7 of your 10 renames" in refused.json()["error"]["message"]


def test_a_failed_batch_gives_its_quota_back(priced, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 0}')
    clear_caches()
    six, five = _assets(priced, 6), _assets(priced, 5, seed=10)
    first = _batch(priced, six)
    assert first.status_code == 201, first.text
    assert "only 4 of your 10" in _batch(priced, five).json()["error"]["message"]
    jobs.fail(first.json()["job_id"], "worker lost")  # what the reaper does to a job whose worker died
    again = _batch(priced, six)
    assert again.status_code == 201, again.text
    run_jobs()
    assert "only 4 of your 10" in _batch(priced, _assets(priced, 5, seed=30)).json()["error"]["message"]


def test_two_batches_sent_at_once_cannot_both_pass_the_quota(priced, monkeypatch):
    import threading

    from starlette.testclient import TestClient

    from tests.conftest import clear_caches

    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 0}')
    monkeypatch.setenv("RENAME_MONTHLY_IMAGES", "6")
    clear_caches()
    batches = [_assets(priced, 4), _assets(priced, 4, seed=10)]
    clients = [TestClient(priced.app, base_url="http://localhost:3000", cookies=dict(priced.cookies))
               for _ in range(2)]
    barrier, statuses = threading.Barrier(2), [0, 0]

    def send(i):
        barrier.wait()
        statuses[i] = _batch(clients[i], batches[i]).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201, 403]
