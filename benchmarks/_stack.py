"""A production-like stack on this machine, of its own, for the load and fault runs.

Its own Redis server (a free port, append-only file on, so a restart keeps the queued work, as a
production Redis would be set up), its own MariaDB database on the local server, Daphne (ASGI:
pages, API, websockets) and two Celery workers: `emotion` (the first score) and `words` (the
transcript; niced, so that on a small machine the first score keeps its budget while transcripts
queue). Every process is started in a session of its own, so a fault can kill it whole (SIGKILL)
and the stack can start it again. Nothing outside loopback is touched; the database is dropped and
the processes stopped at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARIADB = ("127.0.0.1", 3306)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process {process.args!r} exited with {process.returncode}") from None
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def mariadb(sql: str) -> str:
    return subprocess.run(["mariadb", "-h", MARIADB[0], "-P", str(MARIADB[1]), "-uroot", "-N", "-e", sql],
                          check=True, capture_output=True, text=True).stdout


class Stack:
    def __init__(self, name: str = "evening") -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.database = f"portal_{name}_{self.run_id}"
        self.redis_port, self.web_port = free_port(), free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        redis = f"redis://127.0.0.1:{self.redis_port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "emergency_portal.settings",
            "SECRET_KEY": f"load-only-{self.run_id}-not-for-production",
            "DEBUG": "0", "SECURE_SSL": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"mysql://root@{MARIADB[0]}:{MARIADB[1]}/{self.database}",
            "REDIS_URL": f"{redis}/0", "CELERY_BROKER_URL": f"{redis}/1",
            "CHANNELS_PREFIX": f"evening-{self.run_id}",
            # A killed worker's task comes back after this long (production: 15 minutes).
            "CELERY_VISIBILITY_TIMEOUT": "20",
            "MEDIA_ROOT": str(self.workdir / "media"), "STATIC_ROOT": str(self.workdir / "static"),
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "API_RATE_INTAKE": "100000/min", "API_RATE_USER": "100000/min",
            "LOG_LEVEL": "WARNING", "OMP_NUM_THREADS": "1", "WHISPER_THREADS": "1",
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        mariadb(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4")
        self.start_redis()
        self._manage("migrate", "--noinput", "-v0")
        self.start_web()
        self.start_worker("emotion")
        self.start_worker("words")

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)
        try:
            mariadb(f"DROP DATABASE IF EXISTS `{self.database}`")
        except subprocess.CalledProcessError:
            pass

    def start_redis(self) -> None:
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--dir", str(self.workdir), "--appendonly", "yes", "--appendfsync", "everysec",
                              "--save", ""])
        wait_for_port(self.redis_port, self.processes["redis"])

    def start_web(self) -> None:
        daphne = Path(sys.executable).with_name("daphne")
        self._spawn("web", [str(daphne), "--no-server-name", "-b", "127.0.0.1", "-p", str(self.web_port),
                            "emergency_portal.asgi:application"])
        wait_for_port(self.web_port, self.processes["web"])

    def start_worker(self, queue: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "emergency_portal", "worker", "-Q", queue, "-c", "1",
                   "-n", f"{queue}-{self.run_id}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
                   "-l", "warning"]
        if queue == "emotion":  # with the beat: the sweep that hands over analysis whose hand-over was lost
            command += ["-B", "-s", str(self.workdir / "beat-schedule")]
        self._spawn(queue, ["nice", "-n", "10", *command] if queue == "words" else command)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        try:  # the whole group, even when its leader is gone: a worker's beat or pool child outlives it
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            process.wait(timeout=30)
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def restart(self, name: str, *, sig: int = signal.SIGKILL, pause: float = 1.0) -> float:
        """Kill a part (SIGKILL unless told), wait, start it again; seconds until it is back."""
        started = time.monotonic()
        self.kill(name, sig)
        time.sleep(pause)
        {"redis": self.start_redis, "web": self.start_web}.get(name, lambda: self.start_worker(name))()
        return time.monotonic() - started

    def drop_database_connections(self) -> int:
        """KILL every connection to this stack's database (as a failover or a restart would)."""
        ids = mariadb(f"SELECT id FROM information_schema.processlist WHERE db = '{self.database}'").split()
        for connection_id in ids:
            try:
                mariadb(f"KILL {connection_id}")
            except subprocess.CalledProcessError:
                pass  # gone already
        return len(ids)

    def redis_lengths(self) -> dict[str, int]:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.redis_port, db=1, socket_timeout=2)
        try:
            return {queue: int(client.llen(queue)) for queue in ("emotion", "words")}
        except redis.RedisError:
            return {}
        finally:
            client.close()

    # -- helpers ----------------------------------------------------------------------------------

    def _manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env, check=True)

    def _spawn(self, name: str, command: list[str]) -> None:
        log = self.workdir / f"{name}.log"
        self.logs[name] = log
        # Its own session (so a fault kills the part's whole process group), and killed with the
        # thread that started it: a benchmark killed by a timeout must not leave a web server and
        # workers running beside whatever runs next (a CI suite, say).
        with log.open("ab") as out:
            self.processes[name] = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--", *command], cwd=REPO,
                                                    env=self.env, stdout=out, stderr=out, start_new_session=True)
