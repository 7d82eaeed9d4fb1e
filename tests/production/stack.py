"""The portal as docs/deployment.md tells an operator of the system to run it: `make production-setup`, then
the Procfile's processes under honcho, behind Debian's nginx with deploy/nginx/portal.conf (TLS on,
a self-signed certificate for localhost), MariaDB and Redis. Only what names this machine changes
(ports, paths, the certificate): every line that bounds or routes a request is the shipped one.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import MySQLdb
import redis

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_NGINX = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "Str0ng-and-l0ng-enough"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, deadline_s: float, what: str, alive: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"{what} exited with {alive.returncode} before listening on {port}.")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not listen on port {port} within {deadline_s:.0f} s.")


def _database(url_db: str) -> None:
    connection = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="")
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{url_db}`")
    cursor.execute(f"CREATE DATABASE `{url_db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def drop_database(url_db: str) -> None:
    connection = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="")
    connection.cursor().execute(f"DROP DATABASE IF EXISTS `{url_db}`")
    connection.close()


@dataclass
class Stack:
    work: Path
    env: dict[str, str]
    https_port: int
    http_port: int
    web_port: int
    database: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.https_port}"

    def manage(self, *args: str, extra_env: dict[str, str] | None = None, check: bool = True,
               ) -> subprocess.CompletedProcess:
        return subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args], cwd=ROOT,
                              env={**self.env, **(extra_env or {})}, capture_output=True, text=True,
                              timeout=600, check=check)

    def log(self, name: str) -> str:
        path = self.work / name
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def _environment(work: Path, web_port: int, database: str, redis_db: int, broker_db: int) -> dict[str, str]:
    """A production .env: DEBUG off, a secret key, HTTPS on, MariaDB, Redis, Celery."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "DEBUG", "DEMO_", "SECURE_", "STATICFILES_"))}
    env.update({
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{broker_db}",
        "MEDIA_ROOT": str(work / "media"),
        "STATIC_ROOT": str(work / "static"),
        "BACKUP_DIR": str(work / "backups"),
        "TRUSTED_PROXIES": "127.0.0.1",
        "WEB_PORT": str(web_port),
        "AUDIOSOCKET_PORT": str(free_port()),
        "EMOTION_WORKERS": "1",
        "WORDS_WORKERS": "1",
        "BEAT_SCHEDULE_FILE": str(work / "celerybeat-schedule"),
        # Every closed call goes to the supervisors (a deployment may choose this), so the walk can audit.
        "AUDIT_RANDOM_SHARE": "1.0",
    })
    return env


def _render_nginx(work: Path, web_port: int, https_port: int, http_port: int) -> Path:
    """deploy/nginx/* with this machine's ports, paths and certificate; a top-level nginx.conf
    as Debian's (events, mime types) but with its logs and temporary files under `work`."""
    conf = work / "nginx"
    conf.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(conf / "privkey.pem"), "-out", str(conf / "fullchain.pem")],
                   check=True, capture_output=True)
    for source in DEPLOY_NGINX.glob("*.conf"):
        text = source.read_text().replace("/srv/portal/deploy/nginx", str(conf))
        if source.name == "portal.conf":
            text = text.replace("127.0.0.1:8001", f"127.0.0.1:{web_port}")
            text = re.sub(r"^\s*listen \[::\].*\n", "", text, flags=re.M)  # no IPv6 on every machine
            text = text.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
            text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            text = text.replace("portal.example.org", "localhost")
            text = text.replace("/etc/ssl/portal", str(conf))
        (conf / source.name).write_text(text)
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / "nginx-temp" / temp).mkdir(parents=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must write the temp folders here
    temps = "".join(f"    {kind}_temp_path {work / 'nginx-temp' / temp};\n" for kind, temp in (
        ("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"), ("uwsgi", "uwsgi"), ("scgi", "scgi")))
    main = conf / "nginx.conf"
    main.write_text(
        f"{user}daemon off;\nworker_processes 1;\nworker_rlimit_nofile 10000;\npid {work / 'nginx.pid'};\n"
        f"error_log {work / 'nginx-error.log'} warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {work / 'nginx-access.log'};\n{temps}"
        f"    include {conf / 'portal.conf'};\n}}\n")
    return main


def start(work: Path, redis_dbs: tuple[int, int] = (11, 12), processes: tuple[str, ...] = ()) -> Stack:
    """The stack; `processes` names the Procfile's processes to run (all when empty)."""
    web_port, https_port, http_port = free_port(), free_port(), free_port()
    database = f"portal_production_{os.getpid()}_{secrets.token_hex(3)}"
    _database(database)
    for db in redis_dbs:
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
    env = _environment(work, web_port, database, *redis_dbs)
    stack = Stack(work=work, env=env, https_port=https_port, http_port=http_port, web_port=web_port,
                  database=database)
    try:
        # docs/deployment.md, "Production": make production-setup, then honcho start behind nginx.
        setup = subprocess.run(["make", "production-setup"], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=900)
        if setup.returncode != 0:
            raise RuntimeError(f"make production-setup failed:\n{setup.stdout[-3000:]}\n{setup.stderr[-3000:]}")
        with open(work / "honcho.log", "w") as log:
            stack.processes.append(subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-f", str(ROOT / "Procfile"), *processes], cwd=ROOT,
                env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        wait_for_port(web_port, 120, "the Procfile's web process", stack.processes[-1])
        nginx_conf = _render_nginx(work, web_port, https_port, http_port)
        test = subprocess.run([NGINX, "-t", "-c", str(nginx_conf)], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{test.stderr}")
        with open(work / "nginx.out", "w") as log:
            stack.processes.append(subprocess.Popen([NGINX, "-c", str(nginx_conf)], stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True))
        wait_for_port(https_port, 30, "nginx", stack.processes[-1])
    except BaseException:
        stack.stop()
        drop_database(database)
        raise
    return stack


def workers_ready(stack: Stack, deadline_s: float = 240) -> None:
    """Both Celery workers answer a ping (they load the models before they take work)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        out = subprocess.run([str(ROOT / ".venv" / "bin" / "celery"), "-A", "emergency_portal", "inspect", "ping",
                              "--timeout", "3"], cwd=ROOT, env=stack.env, capture_output=True, text=True)
        if "emotion@" in out.stdout and "words@" in out.stdout:
            return
        time.sleep(2)
    raise RuntimeError("The Celery workers did not answer:\n" + stack.log("honcho.log")[-3000:])


def running(tmp_path_factory, *, processes: tuple[str, ...] = (), redis_dbs: tuple[int, int] = (11, 12),
            users: tuple[tuple[str, str], ...] = ()):
    """A fixture's body: the stack up (with these people's accounts) for the tests, then down."""
    for tool in ("nginx", "openssl", "make"):
        if not shutil.which(tool) and not (tool == "nginx" and Path(NGINX).exists()):
            raise RuntimeError(f"{tool} is missing: run ./scripts/system-deps.sh --test")
    work = tmp_path_factory.mktemp("production")
    stack = start(work, redis_dbs=redis_dbs, processes=processes)
    try:
        for username, role in users:
            stack.manage("user_create", username, "--role", role, extra_env={"PORTAL_PASSWORD": PASSWORD})
        yield stack
    finally:
        stack.stop()
        drop_database(stack.database)


# -- raw HTTPS, as an attacker speaks it ------------------------------------------------------

def query(stack: Stack, sql: str) -> list[tuple]:
    connection = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="", db=stack.database)
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        connection.close()


def tls(port: int, source: str = "127.0.0.1") -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(raw, server_hostname="localhost")


def request(port: int, head: str, body: bytes = b"", source: str = "127.0.0.1",
             timeout: float = 15) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTPS request; (status, headers, body)."""
    with tls(port, source) as conn:
        conn.settimeout(timeout)
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            data += chunk
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, rest


def first_answer(port: int, head: str, body: bytes = b"") -> tuple[str, float]:
    """Send a request head (and the start of a body); (the answer's first bytes, seconds until they came).
    nginx answers at once, then keeps reading and discarding for a while (lingering close)."""
    with tls(port) as conn:
        conn.settimeout(15)
        started = time.monotonic()
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = conn.recv(65536)
        return data.decode("latin-1"), time.monotonic() - started
