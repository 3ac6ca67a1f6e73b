"""Virus scanning on every way in: REST and page uploads, ZIP members, slide sources and brand templates,
against a loopback clamd-protocol server; clamd down or hanging; fail-closed and fail-open."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import func, select

from tests import images
from tests.conftest import clear_caches
from tests.fake_clamd import EICAR, SIGNATURE, FakeClamd, closed_port_url
from tests.integration.test_api_assets import upload
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register


@pytest.fixture
def clamd_server():
    with FakeClamd() as fake:
        yield fake


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


def scanning(monkeypatch, url: str, mode: str = "closed", timeout: str = "5") -> None:
    monkeypatch.setenv("CLAMAV_URL", url)
    monkeypatch.setenv("CLAMAV_FAIL_MODE", mode)
    monkeypatch.setenv("CLAMAV_TIMEOUT_SECONDS", timeout)
    clear_caches()


def infected_jpeg() -> bytes:
    # A real picture with the test string appended: it decodes, so only the scanner stops it.
    return images.jpeg(320, 240, seed=7) + EICAR


def asset_count() -> int:
    from app.db import session_scope
    from app.models import Asset

    with session_scope() as session:
        return session.exec(select(func.count()).select_from(Asset)).one()


def audit_rows(action: str):
    from app.db import session_scope
    from app.models import AuditEvent

    with session_scope() as session:
        return [(r.target, r.detail) for r in session.exec(select(AuditEvent).where(AuditEvent.action == action))]


def test_an_infected_upload_fails_alone_and_is_audited(signed_in, clamd_server, monkeypatch):
    scanning(monkeypatch, clamd_server.url)
    clean = images.jpeg(320, 240, seed=1)
    response = upload(signed_in, ("beach.jpg", clean, "image/jpeg"), ("invoice.jpg", infected_jpeg(), "image/jpeg"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert [a["filename"] for a in body["assets"]] == ["beach.jpg"]
    assert body["assets"][0]["meta"]["virus_scan"] == "clean"
    [error] = body["errors"]
    assert (error["filename"], error["code"]) == ("invoice.jpg", "infected")
    assert SIGNATURE in error["message"]
    assert clamd_server.scanned[0] == clean  # the exact bytes, before storing
    assert asset_count() == 1
    [(target, detail)] = audit_rows("security.infected")
    assert target.endswith("invoice.jpg") and detail == SIGNATURE


def test_each_zip_member_is_scanned(signed_in, clamd_server, monkeypatch):
    scanning(monkeypatch, clamd_server.url)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.jpg", images.jpeg(200, 150, seed=2))
        archive.writestr("b.jpg", infected_jpeg())
        archive.writestr("c.jpg", images.jpeg(200, 150, seed=3))
    body = upload(signed_in, ("shoot.zip", out.getvalue(), "application/zip")).json()
    assert sorted(a["filename"] for a in body["assets"]) == ["a.jpg", "c.jpg"]
    assert [(e["filename"], e["code"]) for e in body["errors"]] == [("b.jpg", "infected")]
    assert len(clamd_server.scanned) == 3


@pytest.mark.parametrize("where", ["down", "hanging"])
def test_fail_closed_refuses_and_stores_nothing(signed_in, clamd_server, monkeypatch, where):
    if where == "down":
        scanning(monkeypatch, closed_port_url())
    else:
        clamd_server.mode = "hang"
        scanning(monkeypatch, clamd_server.url, timeout="0.5")
    response = upload(signed_in, ("a.jpg", images.jpeg(seed=4), "image/jpeg"), ("b.jpg", images.jpeg(seed=5),
                                                                                "image/jpeg"))
    assert_error(response, 503, "scanner_unavailable")
    assert response.json()["error"]["details"]["stored"] == []
    assert asset_count() == 0


def test_a_file_clamd_cannot_scan_fails_alone(signed_in, clamd_server, monkeypatch):
    scanning(monkeypatch, clamd_server.url)
    small, large = images.jpeg(160, 120, seed=10), images.jpeg(1600, 1200, seed=11)
    clamd_server.stream_max = len(small) + 1000  # clamd's StreamMaxLength below the large file
    body = upload(signed_in, ("small.jpg", small, "image/jpeg"), ("large.jpg", large, "image/jpeg")).json()
    assert [a["filename"] for a in body["assets"]] == ["small.jpg"]
    assert [(e["filename"], e["code"]) for e in body["errors"]] == [("large.jpg", "scan_failed")]
    assert "size limit" in body["errors"][0]["message"]


def test_fail_open_stores_flagged_and_audited(signed_in, monkeypatch):
    scanning(monkeypatch, closed_port_url(), mode="open")
    response = upload(signed_in, ("a.jpg", images.jpeg(seed=6), "image/jpeg"))
    assert response.status_code == 201, response.text
    assert response.json()["assets"][0]["meta"]["virus_scan"] == "not scanned"
    [(target, detail)] = audit_rows("security.scan_skipped")
    assert target.endswith("a.jpg") and "unreachable" in detail


def test_the_page_ingest_path_scans_a_spooled_file(env, clamd_server, monkeypatch):
    """The Assets page hands ingest_one a spooled file handle (state/assets.py): scanned the same way."""
    import tempfile

    from app.services.assets import service as assets
    from app.services.scan import ScannerUnavailable

    scanning(monkeypatch, clamd_server.url)
    with tempfile.SpooledTemporaryFile() as spooled:
        spooled.write(infected_jpeg())
        spooled.seek(0)
        result = assets.ingest_one(workspace_id=1, filename="drop.jpg", data=spooled)
    assert [(e.code, e.filename) for e in result.errors] == [("infected", "drop.jpg")] and not result.assets
    clamd_server.mode = "hang"
    scanning(monkeypatch, clamd_server.url, timeout="0.3")
    with pytest.raises(ScannerUnavailable):
        assets.ingest_one(workspace_id=1, filename="drop.jpg", data=images.jpeg(seed=8))


def test_slide_sources_and_brand_templates_are_scanned(signed_in, clamd_server, monkeypatch):
    scanning(monkeypatch, clamd_server.url)
    document = b"# Quarterly report\n\nSales grew.\n\n" + EICAR
    response = signed_in.post("/api/v1/slides", data={"slides": "4"},
                              files={"document": ("report.md", document, "text/markdown")}, headers=ORIGIN)
    assert_error(response, 422, "infected")
    assert signed_in.get("/api/v1/slides").json()["total"] == 0
    kit = signed_in.post("/api/v1/slides", data={"slides": "4", "topic": "Roadmap"},
                         files={"brand_kit": ("brand.pptx", b"PK\x03\x04" + EICAR, "application/octet-stream")},
                         headers=ORIGIN)
    assert_error(kit, 422, "infected")
    ok = signed_in.post("/api/v1/slides", data={"slides": "4"},
                        files={"document": ("report.md", b"# Report\n\nSales grew in the north.", "text/markdown")},
                        headers=ORIGIN)
    assert ok.status_code == 201, ok.text
    assert [target for target, _ in audit_rows("security.infected")] == ["slide source report.md",
                                                                          "workspace:1 The brand template"]


def test_readiness_lists_the_scanner(env, clamd_server, monkeypatch):
    from app.services import health

    assert "scanner" not in health.readiness()  # off: not listed
    scanning(monkeypatch, clamd_server.url)
    assert health.readiness()["scanner"].startswith("ok (ClamAV 1.4.3")
    scanning(monkeypatch, closed_port_url())
    down = health.readiness()["scanner"]
    assert down.startswith("down") and not health.is_ready({"scanner": down})
    scanning(monkeypatch, closed_port_url(), mode="open")
    degraded = health.readiness()["scanner"]
    assert degraded.startswith("degraded") and health.is_ready({"scanner": degraded})
