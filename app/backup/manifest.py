"""What an archive holds and how its members are named; the schema revisions this code knows."""

from __future__ import annotations

import hashlib
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FORMAT = "atelier-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
OBJECTS = "objects/"
DATABASE_MEMBERS = {"sqlite": "database/atelier.sqlite3", "postgresql": "database/atelier.pgdump"}
CHUNK = 1024 * 1024

Say = Callable[[str], None]


def say_stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def app_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def alembic_config(database_url: str | None = None):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    return config


def known_revisions() -> tuple[str, list[str]]:
    """(head, every revision from head down to base) of the migrations shipped with this code."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    return head, [rev.revision for rev in script.iterate_revisions(head, "base")]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class Progress:
    """A line every second or so while objects go by, and always the last one."""

    def __init__(self, say: Say, verb: str, total: int, total_bytes: int):
        self.say, self.verb, self.total, self.total_bytes = say, verb, total, total_bytes
        self.done = self.bytes = 0
        self._last = 0.0

    def step(self, size: int) -> None:
        self.done += 1
        self.bytes += size
        now = time.monotonic()
        if self.done == self.total or now - self._last >= 1.0:
            self._last = now
            self.say(f"  {self.verb} {self.done}/{self.total} objects, "
                     f"{human(self.bytes)} of {human(self.total_bytes)}")
