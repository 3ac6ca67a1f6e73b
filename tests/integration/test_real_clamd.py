"""The scanner against a real clamd, where the machine has one (TEST_CLAMD=/path/to/clamd, or `clamd` on PATH).

No signature database can be downloaded here (database.clamav.net is unreachable and Debian ships none:
`clamav-daemon` depends on the virtual `clamav-data`, which only `clamav-freshclam` provides, by download),
and clamd refuses to start without one ("cli_loaddbdir: No supported database files found"). So the test
writes its own: one body signature (.ndb) for the EICAR test string, assembled at run time. That is enough
for the real daemon, its INSTREAM parser and its answers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

from app.services.scan import clamd
from tests import images
from tests.conftest import clear_caches
from tests.fake_clamd import EICAR

SIGNATURE = "Atelier.Test.EICAR.UNOFFICIAL"  # clamd adds .UNOFFICIAL to a signature of a local database


def _binary() -> str | None:
    return os.environ.get("TEST_CLAMD") or shutil.which("clamd") or (
        "/usr/sbin/clamd" if os.path.exists("/usr/sbin/clamd") else None)


@pytest.fixture(scope="module")
def real_clamd(tmp_path_factory):
    binary = _binary()
    if not binary:
        pytest.skip("no clamd here (apt-get install clamav-daemon, or TEST_CLAMD=/path/to/clamd)")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    (folder / "db" / "atelier.ndb").write_text(f"Atelier.Test.EICAR:0:*:{EICAR.hex()}\n")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    (folder / "clamd.conf").write_text(
        f"Foreground yes\nDatabaseDirectory {folder / 'db'}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n"
        f"LogFile {folder / 'clamd.log'}\nStreamMaxLength 10M\n")
    proc = subprocess.Popen([binary, "-c", str(folder / "clamd.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    url = f"tcp://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # loading the engine takes a few seconds
    while True:
        try:
            if clamd.command(url, "PING", timeout=1) == "PONG":
                break
        except clamd.ClamdError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"clamd did not start: {(folder / 'clamd.log').read_text()[-500:]}")
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_the_real_daemon_answers_and_finds_the_test_string(real_clamd):
    assert clamd.command(real_clamd, "VERSION", timeout=5).startswith("ClamAV ")
    picture = images.jpeg(320, 240, seed=1)
    assert clamd.instream(real_clamd, picture, timeout=30) is None
    assert clamd.instream(real_clamd, picture + EICAR, timeout=30) == SIGNATURE


def test_the_real_daemon_refuses_a_stream_over_its_limit(real_clamd):
    with pytest.raises(clamd.ClamdError):
        clamd.instream(real_clamd, os.urandom(11 * 1024 * 1024), timeout=30)


def test_an_upload_is_refused_by_the_real_daemon(env, real_clamd, monkeypatch):
    from app.db import session_scope
    from app.services.assets import service as assets
    from app.services.auth import accounts

    monkeypatch.setenv("CLAMAV_URL", real_clamd)
    clear_caches()
    with session_scope() as session:
        workspace_id = accounts.register_user(session=session, email="ada@example.com",
                                              password="correct horse 1").workspace_id
    result = assets.ingest_one(workspace_id=workspace_id, filename="invoice.jpg", data=images.jpeg(seed=2) + EICAR)
    assert [(e.code, SIGNATURE in e.message) for e in result.errors] == [("infected", True)]
    clean = assets.ingest_one(workspace_id=workspace_id, filename="beach.jpg", data=images.jpeg(seed=3))
    assert clean.errors == [] and clean.assets[0].filename == "beach.jpg"
