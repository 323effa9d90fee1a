"""A private, throw-away SolveQueue stack for benchmarks: never the developer's Redis or database.

    from bench.stack import Stack

    with Stack() as stack:                      # private redis-server + temp SQLite file (tables created)
        url = stack.start_web()                 # gunicorn, Procfile `web:` settings, on 127.0.0.1:<free port>
        stack.start_workers(2)                  # real `rq worker` processes, Procfile `worker:` command
        ...                                     # talk HTTP to `url`; stack.redis is a Redis client
    # every child process (and its children: gunicorn workers, rq work horses) is stopped here,
    # also on Ctrl-C, SIGTERM or an exception; quickly, not gracefully: a running solve is killed
    # (RQ's cold shutdown), since the stack's database is thrown away anyway.

What a `Stack` gives you:
- `workdir`        a temp folder holding the SQLite file and one log file per child (kept if `keep=True`
                   or when the block raised; its path is printed then)
- `redis_url`, `database_url`, `redis` (a connected client), `flush_redis()`
- `start_web(app_spec="app:create_app()", port=None) -> base URL`  any WSGI app spec, served with the Procfile's web
                   settings (WEB_CONCURRENCY / WEB_THREADS are read from the environment as there);
                   `web_command(app_spec, port)` is the exact command line
- `start_workers(n)`  waits until all n workers have registered in Redis
- `env`            the environment every child gets (DATABASE_URL, REDIS_URL, PYTHONPATH, plus `env=`)
- `log_tail(name)` the end of a child's log ("web", "worker-1", or the name given to start_web)

Linux only (a child's own children are found in /proc by session id). Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROCFILE = ROOT / "Procfile"

if str(ROOT) not in sys.path:  # so `app` imports when a bench script is run as `python bench/x.py`
    sys.path.insert(0, str(ROOT))

from app import db  # noqa: E402
from app.launcher import free_port, start_bundled_redis  # noqa: E402

# A private stack on localhost measures the server, not its limits: development settings (no real
# SECRET_KEY needed) and rate limits / queue caps out of the way. `env=` overrides any of them.
BENCH_SETTINGS = {"SOLVEQUEUE_ENV": "development", "RATE_LIMIT_SUBMIT": "1000000 per minute",
                  "RATE_LIMIT_LOGIN": "1000000 per minute", "MAX_QUEUED_PER_USER": "1000000",
                  "MAX_QUEUED_TOTAL": "1000000"}


def _bench_token(database_url: str) -> str:
    from app.auth import accounts, tokens

    user = accounts.create(database_url, "bench", None, is_admin=True)
    return tokens.create(database_url, user.id, "bench")[1]


def procfile_command(process: str, env: dict[str, str]) -> list[str]:
    """The Procfile's command for `process` ("web", "worker"), with $VAR and ${VAR:-default} expanded."""
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            expanded = re.sub(r"\$\{(\w+):-([^}]*)\}|\$(\w+)",
                              lambda m: env.get(m[1] or m[3]) or (m[2] or ""), command)
            return shlex.split(expanded)
    raise KeyError(f"no {process!r} line in {PROCFILE}")


class Stack:
    def __init__(self, env: dict[str, str] | None = None, keep: bool = False, postgres: bool = False):
        self.extra_env = env or {}
        self.keep = keep
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="solvequeue-bench-"))
        self.redis_url = ""
        self.database_url = f"sqlite:///{self.workdir / 'bench.sqlite3'}"
        # A throwaway database on the local PostgreSQL (trust auth), dropped on stop.
        # Unique per stack, also for two stacks one process opens in the same second (bench/scale.py).
        self.pg_database = f"solvequeue_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}" if postgres else ""
        if postgres:
            self.database_url = PG_SERVER.rsplit("/", 1)[0] + "/" + self.pg_database
        self.redis: Redis | None = None
        self.token = ""  # an admin's API token in the stack's database (created on enter)
        self._old_sigterm = None

    # --- context manager -------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        # SIGTERM to the bench becomes SystemExit, so the `finally` below still stops every child.
        self._old_sigterm = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            proc, self.redis_url = start_bundled_redis(self.workdir / "redis")
            self.children.append(("redis", proc))
            self.redis = Redis.from_url(self.redis_url)
            if self.pg_database:
                _pg_admin(f'CREATE DATABASE "{self.pg_database}"')
            db.create_tables(self.database_url)
            self.token = _bench_token(self.database_url)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        failed = exc_type is not None and not issubclass(exc_type, (KeyboardInterrupt, SystemExit))
        self.stop(keep=self.keep or failed)  # on an error the logs are worth a look

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **BENCH_SETTINGS, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                "PYTHONPATH": str(ROOT), **self.extra_env}

    @property
    def auth(self) -> dict[str, str]:
        """The header that signs a request in as the stack's admin (every run is visible to it)."""
        return {"Authorization": f"Bearer {self.token}"}

    def drop_queued_runs(self) -> None:
        """Mark every queued run canceled (after flush_redis dropped their jobs: the database agrees)."""
        from sqlalchemy import text

        with db.write(self.database_url) as conn:
            conn.execute(text("UPDATE run SET status = 'canceled' WHERE status = 'queued'"))

    # --- starting things -------------------------------------------------------------------------
    def start_web(
        self,
        app_spec: str = "app:create_app()",
        name: str = "web",
        timeout: float = 30,
        port: int | None = None,
        env: dict | None = None,
    ) -> str:
        """gunicorn with the Procfile's web settings serving `app_spec` (on `port`, else a free one); returns
        its base URL when it answers. `env` adds to the stack's environment for this server only."""
        port = port or free_port()
        proc = self._spawn(name, self.web_command(app_spec, port), env)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{self.log_tail(name)}")
            time.sleep(0.1)
        return url

    def web_command(self, app_spec: str, port: int | str) -> list[str]:
        """The Procfile's web command, bound to 127.0.0.1:port, serving `app_spec`."""
        cmd = procfile_command("web", {**self.env, "PORT": str(port)})
        cmd[0] = str(BIN / cmd[0])
        cmd[cmd.index("--bind") + 1] = f"127.0.0.1:{port}"  # loopback only
        cmd[-1] = app_spec
        if "--no-control-socket" not in cmd:
            cmd.insert(1, "--no-control-socket")
        return cmd

    def start_workers(self, n: int = 1, timeout: float = 60) -> None:
        """n `rq worker` processes (the Procfile's worker command); returns when all are registered."""
        from rq import Worker

        before = Worker.count(connection=self.redis)
        names = [f"worker-{before + i + 1}" for i in range(n)]
        for name in names:
            cmd = procfile_command("worker", self.env)
            cmd[0] = str(BIN / cmd[0])
            self._spawn(name, cmd)
        deadline = time.monotonic() + timeout
        while Worker.count(connection=self.redis) < before + n:
            dead = [name for name, p in self.children if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                problem = f"{dead[0]} exited" if dead else f"not registered after {timeout:g} s"
                raise RuntimeError(f"workers did not start: {problem}\n{self.log_tail(dead[0] if dead else names[0])}")
            time.sleep(0.2)

    def flush_redis(self) -> None:
        self.redis.flushdb()

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115  (the child holds it)
        # Own session: a Ctrl-C at the terminal reaches only the bench, which then stops the children in order.
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.children.append((name, proc))
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --- stopping --------------------------------------------------------------------------------
    def stop(self, keep: bool = False) -> None:
        """Stop every child, newest first (workers, then web servers, then Redis). Idempotent."""
        while self.children:
            name, proc = self.children.pop()
            _terminate(proc, rq_worker=name.startswith("worker"))
        if self.redis is not None:
            self.redis.close()
        if self.pg_database:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            self.pg_database = ""
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None
        if keep:
            print(f"(bench stack files kept in {self.workdir})", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


PG_SERVER = os.environ.get("PG_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_admin(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _answers(port: int) -> bool:
    """True once an HTTP server answers on 127.0.0.1:port (any status)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def _session(sid: int) -> list[int]:
    """Every process in session `sid` except its leader: gunicorn's workers, rq's scheduler and work
    horses (they setpgrp, but keep the session, even when orphaned)."""
    pids = []
    for name in os.listdir("/proc"):  # (not Path.glob: it raises when a process exits while it looks)
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()  # state ppid pgrp session
        except OSError:
            continue
        if int(fields[3]) == sid and int(name) != sid:
            pids.append(int(name))
    return pids


def _terminate(proc: subprocess.Popen, rq_worker: bool, timeout: float = 15) -> None:
    """SIGTERM, wait, then SIGKILL whatever is left of the child's session.

    An rq worker gets a second SIGTERM after a moment: its first one waits for the running job (a solve can
    take minutes), the second is RQ's cold shutdown, which kills the work horse. A bench needs no grace.
    """
    if proc.poll() is None:
        _kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(2.0 if rq_worker else timeout)  # RQ ignores a second signal within 1 s
        except subprocess.TimeoutExpired:
            if rq_worker:
                _kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill(proc.pid, signal.SIGKILL)
                proc.wait(5)
    deadline = time.monotonic() + 5
    while _session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # gunicorn workers, rq's scheduler finishing their own shutdown
    for pid in _session(proc.pid):
        _kill(pid, signal.SIGKILL)


def _kill(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
