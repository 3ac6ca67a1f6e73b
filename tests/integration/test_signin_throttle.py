"""Sign-in throttles that stop guessing without letting a stranger lock the owner out,
and cookie writes that prove they come from our own pages."""

from starlette.testclient import TestClient

from tests.integration.test_api_auth import ORIGIN, PASSWORD, assert_error, login, register


def client_at(api, address: str) -> TestClient:
    return TestClient(api.app, base_url="http://localhost:3000", client=(address, 50000))


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(api, env):
    owner, attacker = client_at(api, "198.51.100.7"), client_at(api, "203.0.113.9")
    register(owner)
    assert login(owner).status_code == 200  # the owner's usual address
    for i in range(8):
        response = login(attacker, password=f"wrong password {i}")
        assert response.status_code in (401, 429)
    assert_error(login(attacker), 429, "too_many_requests")  # the guesser waits, even with the right one
    assert login(owner).status_code == 200


def test_the_owner_typing_wrong_is_locked_at_their_address_only(api, env):
    owner, phone = client_at(api, "198.51.100.7"), client_at(api, "198.51.100.8")
    register(owner)
    assert [login(owner, password=f"typo {i}").status_code for i in range(5)] == [401] * 5
    assert_error(login(owner), 429, "too_many_requests")
    assert login(phone).status_code == 200


def test_many_addresses_guessing_one_account_hit_an_account_limit_but_not_known_addresses(api, env, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("SIGNIN_LIMIT_PER_ACCOUNT", "6/hour")
    clear_caches()
    owner = client_at(api, "198.51.100.7")
    register(owner)
    assert login(owner).status_code == 200  # 1 of 6: the address was not known yet
    for i in range(5):  # a botnet: one guess from each of many addresses
        assert login(client_at(api, f"203.0.113.{i + 1}"), password=f"guess {i}").status_code == 401
    assert_error(login(client_at(api, "203.0.113.200")), 429, "too_many_requests")
    assert login(owner).status_code == 200  # where the owner signed in before still works


def test_one_address_spraying_many_accounts_hits_the_address_limit(api, env, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("SIGNIN_LIMIT_PER_IP", "4/minute")
    clear_caches()
    sprayer = client_at(api, "203.0.113.9")
    for i in range(4):
        assert login(sprayer, email=f"user{i}@example.com", password=PASSWORD).status_code == 401
    assert_error(login(sprayer, email="another@example.com"), 429, "too_many_requests")


def test_cookie_write_without_origin_is_judged_by_sec_fetch_site(api, env):
    register(api)
    login(api)
    for site in ("same-origin", "none"):
        assert api.post("/api/v1/tokens", json={"name": site}, headers={"Sec-Fetch-Site": site}).status_code == 201
    for site in ("cross-site", "same-site"):
        refused = api.post("/api/v1/tokens", json={"name": site}, headers={"Sec-Fetch-Site": site})
        assert_error(refused, 403, "foreign_origin")
    assert_error(api.post("/api/v1/tokens", json={"name": "bare"}), 403, "origin_unverified")
    assert_error(api.delete("/api/v1/tokens/1"), 403, "origin_unverified")
    # With an Origin the origin check decides, whatever Sec-Fetch-Site says.
    assert api.post("/api/v1/tokens", json={"name": "o"}, headers={**ORIGIN, "Sec-Fetch-Site": "cross-site"}
                    ).status_code == 201
    assert_error(api.post("/api/v1/tokens", json={"name": "e"},
                          headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"}),
                 403, "foreign_origin")
    assert api.get("/api/v1/tokens").status_code == 200  # reads are not writes


def test_bearer_writes_and_cookie_less_sign_in_need_no_origin(api, env):
    register(api)
    login(api)
    secret = api.post("/api/v1/tokens", json={"name": "ci"}, headers=ORIGIN).json()["token"]
    script = TestClient(api.app, base_url="http://localhost:3000")
    assert script.post("/api/v1/tokens", json={"name": "script"},
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 201
    assert script.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
                       ).status_code == 200
