"""The packaging files checked as far as a machine without a Docker daemon allows: the compose file parsed and
walked (services, profiles, health checks, depends_on conditions, volumes, settings names, no secrets), the
Dockerfile's rules (pinned base, non-root, health check, the frontend built at build time), the systemd units
through `systemd-analyze verify`, and the proxy examples' websocket and forwarding lines."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CORE = {"app", "worker", "postgres", "valkey", "minio", "minio-bucket"}
# Variables the app reads that are not Settings fields: Reflex's and granian's own, and settings other
# parts of issue 22 add (TRUSTED_PROXIES, CLAMAV_URL) — listed so a typo in any other name fails here.
NOT_SETTINGS = {"GRANIAN_WORKERS", "TRUSTED_PROXIES", "CLAMAV_URL"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_every_service_and_the_optional_ones_behind_profiles(compose):
    services = compose["services"]
    assert set(services) == CORE | {"ollama", "clamav"}
    assert services["ollama"]["profiles"] == ["ollama"] and services["clamav"]["profiles"] == ["clamav"]
    assert all("profiles" not in services[name] for name in CORE)
    assert services["worker"]["command"] == ["python", "scripts/run.py", "--no-web"]
    assert services["worker"]["image"] == services["app"]["image"] and "build" in services["app"]


def test_compose_health_checks_and_start_order(compose):
    services = compose["services"]
    for name, service in services.items():
        if service.get("restart") == "no":
            continue  # a one-shot job (the bucket maker)
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        for option in ("interval", "timeout", "retries"):
            assert option in service["healthcheck"], (name, option)
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            assert needed in services, (name, needed)
            assert how["condition"] in ("service_healthy", "service_completed_successfully"), (name, needed)
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], (name, needed)
            else:
                assert services[needed]["restart"] == "no", (name, needed)
    assert set(services["app"]["depends_on"]) == {"postgres", "valkey", "minio-bucket"}
    # The workers start once the app is up (it applied the migrations). So the app's check is liveness:
    # /health/ready wants a live worker and would never pass before them.
    assert services["worker"]["depends_on"] == {"app": {"condition": "service_healthy"}}
    app_check = " ".join(services["app"]["healthcheck"]["test"])
    assert "/health'" in app_check and "/health/ready" not in app_check
    assert services["app"]["init"] is True and services["worker"]["init"] is True


def test_compose_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            assert not source.startswith(("/", ".")), f"bind mount {mount}: use a named volume"
            used.add(source)
    assert used == declared
    for name, path in {"postgres": "/var/lib/postgresql/data", "valkey": "/data", "minio": "/data",
                       "app": "/data", "ollama": "/root/.ollama", "clamav": "/var/lib/clamav"}.items():
        assert any(m.endswith(":" + path) for m in compose["services"][name]["volumes"]), name


def test_compose_images_are_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        if image == "atelier:local":
            continue
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: pin {image} to a version"


def test_compose_settings_are_real_settings_and_point_at_the_services(compose):
    fields = {name.upper() for name in Settings.model_fields}
    for name in ("app", "worker"):
        environment = compose["services"][name]["environment"]
        unknown = set(environment) - fields - NOT_SETTINGS
        assert not unknown, f"{name}: not settings of app/settings.py: {unknown}"
        assert environment["APP_ENV"] == "production" and environment["STORAGE_BACKEND"] == "s3"
        assert re.fullmatch(r"postgresql\+psycopg://atelier:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432/atelier",
                            environment["DATABASE_URL"])
        assert urlsplit(environment["REDIS_URL"]).hostname == "valkey"
        assert "minio:9000" in environment["S3_ENDPOINT_URL"]
    assert compose["services"]["app"]["environment"]["WORKERS"] == "0"


def test_compose_holds_no_secret_values(compose):
    secretish = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if secretish.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*|:-)\}", str(value)), f"{name}.{key} = {value!r}"
    example = (DEPLOY / "compose.env.example").read_text()
    for key in ("SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert re.search(rf"^{key}=$", example, re.M), f"{key} must be empty in the example"


def _final_stage(dockerfile: str) -> str:
    return dockerfile.rsplit("\nFROM ", 1)[1]


def test_dockerfile_rules():
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base)
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    final = _final_stage(text)
    users = re.findall(r"^USER (\S+)$", final, re.M)
    assert users == ["atelier"] and "--uid 10001" in final
    assert final.index("USER atelier") > final.rindex("RUN ")  # nothing runs as root after the switch
    assert re.search(r"^HEALTHCHECK .*\n.*/health", text, re.M)
    assert re.search(r'^CMD \["python", "scripts/run.py"\]$', text, re.M)
    for arg, package in (("WITH_OCR", "tesseract-ocr"), ("WITH_PDF", "libreoffice-impress")):
        assert re.search(rf"^ARG {arg}=0$", final, re.M) and package in final
    build = text.split("\nFROM ")[1]
    assert build.index("alembic upgrade head") < build.index("reflex export --frontend-only")
    assert "node@22.23.3 bun@1.4.5" in build  # the versions the Makefile installs
    assert not re.search(r"^(ENV|ARG)\s.*(SECRET|PASSWORD|TOKEN|API_KEY)", text, re.M)
    for source in re.findall(r"^COPY (?!--from)(?:--\S+ )*(.+) \S+$", text, re.M):
        for path in source.split():
            assert path == "." or (ROOT / path).exists(), path


def test_dockerignore_keeps_secrets_and_local_data_out_and_the_code_in():
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line and not line.startswith("#")]
    for must in (".env", ".git", ".venv", ".tools", ".web", "var", "*.db", "deploy/.env"):
        assert must in ignored, must
    for needed in ("app", "components", "state", "jobs", "alembic", "assets", "reflex.lock", "scripts",
                   "rxconfig.py", "alembic.ini", "pyproject.toml", "requirements.txt", "constraints.txt"):
        assert needed not in ignored and (ROOT / needed).exists(), needed


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / name)
    return parser


def test_systemd_units_supervise_workers_by_process_group():
    worker, web = _unit("atelier-worker@.service"), _unit("atelier-web.service")
    for unit in (worker, web):
        service = unit["Service"]
        assert service["KillMode"] == "control-group" and service["User"] == "atelier"
        assert service["EnvironmentFile"] == "/etc/atelier/atelier.env"
        assert service["Restart"] in ("always", "on-failure")
    assert worker["Service"]["ExecStart"].endswith("-m jobs.worker") and worker["Service"]["Restart"] == "always"
    assert web["Service"]["ExecStart"].endswith("scripts/run.py") and "WORKERS=0" in web["Service"]["Environment"]
    assert "atelier-web.service" in worker["Unit"]["After"]
    assert _unit("atelier-backup.timer")["Timer"]["OnCalendar"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_finds_nothing(tmp_path):
    """The units with their paths pointed at this checkout (verify wants ExecStart to exist)."""
    for path in (DEPLOY / "systemd").iterdir():
        if path.suffix in (".service", ".target", ".timer"):
            text = path.read_text().replace("/opt/atelier", str(ROOT))
            text = text.replace("/etc/atelier/atelier.env", str(tmp_path / "atelier.env"))
            (tmp_path / path.name).write_text(text)
            if path.name == "atelier-worker@.service":
                (tmp_path / "atelier-worker@1.service").write_text(text)
    (tmp_path / "atelier.env").write_text((DEPLOY / "systemd" / "atelier.env.example").read_text())
    names = ["atelier-web.service", "atelier-worker@1.service", "atelier-backup.service", "atelier-backup.timer",
             "atelier.target"]
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    complaints = [line for line in (proc.stdout + proc.stderr).splitlines()
                  if "atelier" in line and ("Failed" in line or "Unknown" in line or "not executable" in line
                                            or "ignoring" in line)]
    assert proc.returncode == 0 and not complaints, proc.stdout + proc.stderr


def test_proxy_examples_pass_websockets_and_the_client_address():
    nginx = (DEPLOY / "proxy" / "nginx.conf").read_text()
    event = nginx.split("location /_event {", 1)[1].split("}", 1)[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in event
    assert "proxy_set_header Connection $connection_upgrade;" in event
    # nginx inherits no proxy_set_header into a location that sets its own: the block repeats them.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in event and "X-Forwarded-Proto" in event
    assert "$proxy_add_x_forwarded_for" not in nginx.replace("# $remote_addr, not $proxy_add_x_forwarded_for", "")
    assert nginx.count("{") == nginx.count("}")
    caddy = (DEPLOY / "proxy" / "Caddyfile").read_text()
    assert "reverse_proxy 127.0.0.1:3000" in caddy and "/_event" in caddy and "TRUSTED_PROXIES" in caddy
    assert caddy.count("{") == caddy.count("}")
    assert "TRUSTED_PROXIES" in nginx
