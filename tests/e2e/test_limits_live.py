"""The guard in the running app (app.py wires it): API limits per forwarded client, and the admin sees them
as security events in the audit log."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Account, open_page, shot, sign_in

pytestmark = pytest.mark.e2e


def test_a_client_behind_the_proxy_is_limited_and_the_admin_sees_it(page: Page, admin: Account, base_url: str):
    flooder, neighbour = {"X-Forwarded-For": "198.51.100.77"}, {"X-Forwarded-For": "198.51.100.78"}
    with httpx.Client(base_url=base_url, timeout=10) as client:
        codes = [client.get("/api/v1/me", headers=flooder).status_code for _ in range(125)]
        refused = client.get("/api/v1/me", headers=flooder)
        assert codes.count(401) == 120 and 429 in codes  # API_RATE_LIMIT_ANON: 120/minute per address
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert client.get("/api/v1/me", headers=neighbour).status_code == 401  # another client is not held up
        assert client.get("/health").status_code == 200
    sign_in(page, admin)
    open_page(page, "/admin/audit")
    row = page.get_by_role("row").filter(has=page.get_by_text("security.rate_limited")).first
    expect(row).to_contain_text("198.51.100.77")
    expect(row).to_contain_text("/api/v1/me")
    shot(page, "admin-audit-security-events")
