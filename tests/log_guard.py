"""No secret in the logs of the whole test run.

Every log record of the run (this process; at INFO, the production level) is written through the production
JSON formatter to a file; at the end, the file is searched for every secret the run used, and a hit fails the
run. The secrets come from a registry: passwords and keys the tests name (`register_secret`), the secret-looking
settings each test put in the environment, and every random token the app made (`app.services.secrets.new_token`
makes them all: sessions, API tokens, invitations, resets, sign-on tickets) — watched, not replaced.

Wired in tests/conftest.py (pytest_configure, pytest_runtest_call, pytest_sessionfinish).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

MIN_LENGTH = 8  # shorter values ("sk-test", "x") are everyday words in a log line, not secrets
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|_KEY$|_AUTH$")
# What app.services.secrets.new_token makes: a prefix and 43 URL-safe characters.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-]{43}")


class Registry:
    """The secrets of the run."""

    def __init__(self):
        self.literal: set[str] = set()  # passwords, keys: looked for as they are
        self.tokens: set[str] = set()  # random tokens: looked up by shape, there are thousands

    def register(self, value: str) -> None:
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return
        body = value.split("_", 1)[1] if value.startswith("atl_") else value
        (self.tokens if TOKEN_SHAPE.fullmatch(body) else self.literal).add(value)
        if body != value:
            self.tokens.add(body)

    def register_environment(self, environ=os.environ) -> None:
        for name, value in environ.items():
            if SECRET_NAMES.search(name.upper()):
                self.register(value)

    def hits(self, line: str) -> list[str]:
        return [s for s in self.literal if s in line] + [t for t in TOKEN_SHAPE.findall(line) if t in self.tokens]


REGISTRY = Registry()


class LogGuard:
    """A handler writing every record to `path` as production would (JSON, redacted), and the search."""

    def __init__(self, path: Path, registry: Registry | None = None):
        from app.observability.logs import ContextFilter, JsonFormatter

        self.path = path
        self.registry = registry or Registry()
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.addFilter(ContextFilter())
        self.handler.setFormatter(JsonFormatter())
        self.handler.setLevel(logging.INFO)
        self.also: list[Path] = []  # logs of processes the run started (the e2e app server's server.log)

    def attach(self, logger: logging.Logger | None = None) -> None:
        logger = logger or logging.getLogger()
        logger.addHandler(self.handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)

    def detach(self, logger: logging.Logger | None = None) -> None:
        (logger or logging.getLogger()).removeHandler(self.handler)
        self.handler.close()

    def leaks(self) -> list[str]:
        """The log lines holding a registered secret, the secret masked (first 4 characters)."""
        self.handler.flush()
        found = []
        for path in (self.path, *self.also):
            with open(path, encoding="utf-8", errors="replace") as log:
                for line in log:
                    found += [f"{hit[:4]}… in {path.name}: {line.strip()[:300]}" for hit in self.registry.hits(line)]
        return found


GUARD: LogGuard | None = None


def register_secret(value: str) -> None:
    """For fixtures and tests: a value that must never reach the logs."""
    REGISTRY.register(value)


def also_scan(path: Path) -> None:
    """Search this file too at the end (the log of a server process the run started)."""
    if GUARD is not None and path.is_file():
        GUARD.also.append(path)


def watch_tokens() -> None:
    """Every token the app makes is registered as it is made. Called when tests/conftest.py is imported, before
    any app module imports `new_token`."""
    import app.services.secrets as secrets_module

    made = secrets_module.new_token

    def new_token(prefix: str = "") -> str:
        token = made(prefix)
        REGISTRY.register(token)
        return token

    secrets_module.new_token = new_token


def start(config) -> None:
    global GUARD
    folder = Path(config.rootpath) / ".pytest_cache"
    folder.mkdir(exist_ok=True)
    GUARD = LogGuard(folder / f"suite-logs-{os.getpid()}.jsonl", REGISTRY)
    GUARD.attach()
    from app.observability.logs import QUIET_LOGGERS

    for name in QUIET_LOGGERS:  # as configured in production (app.observability.logs.configure_logging)
        logging.getLogger(name).setLevel(logging.WARNING)
    # The passwords the tests sign up and sign in with.
    for password in ("correct horse battery", "a brand new passphrase"):
        register_secret(password)


# Under pytest-xdist each worker searches its own log; the leaks it found reach the controller, which reports
# them and fails the run (a worker's exit status and terminal are not the run's).
WORKER_LEAKS: list[str] = []


def collect_worker(node) -> None:
    """Controller side (xdist's pytest_testnodedown): keep the leaks a finished worker found."""
    WORKER_LEAKS.extend(getattr(node, "workeroutput", {}).get("log_guard_leaks", []))


def finish(session) -> None:
    if GUARD is None:
        return
    REGISTRY.register_environment()
    leaks = GUARD.leaks() + WORKER_LEAKS
    GUARD.detach()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["log_guard_leaks"] = leaks
        if not leaks and not os.environ.get("KEEP_SUITE_LOGS"):
            GUARD.path.unlink(missing_ok=True)
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if leaks:
        if reporter is not None:
            reporter.write_sep("=", f"SECRETS IN THE LOGS ({len(leaks)}) — see {GUARD.path}", red=True)
            for leak in leaks[:20]:
                reporter.write_line(leak)
        session.exitstatus = 1
    elif not os.environ.get("KEEP_SUITE_LOGS"):  # set it to read what the run logged
        GUARD.path.unlink(missing_ok=True)
