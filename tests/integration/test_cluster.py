"""Two real workers behind a real gunicorn: the workers/queues API and /metrics tell the truth while
runs solve and wait, and the metrics (the workers' too, through the multiprocess directory) move as
runs finish. Workers log one JSON line per event with LOG_FORMAT=json."""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import datetime

import pytest

from app.launcher import free_port
from tests.accounts import admin_headers
from tests.integration.test_monitoring import sample
from tests.support import answers, start_web, start_worker, stop_process, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HARD = {"problem_type": "knapsack", "demo": "hard", "time_limit": 60, "threads": 1}


class Stack:
    def __init__(self, url: str, workers: list, auth: dict[str, str]):
        self.url, self.workers, self.auth = url, workers, auth

    def call(self, path: str, body: dict | None = None, method: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method or ("POST" if data else "GET"),
            headers={"Content-Type": "application/json", **self.auth},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read().decode()
            return json.loads(raw) if resp.headers.get_content_type() == "application/json" else raw

    def running(self) -> set[int]:
        return {r["id"] for r in self.call("/api/v1/runs?status=running")["items"]}

    def two_running(self) -> set[int] | None:
        running = self.running()
        return running if len(running) == 2 else None

    def metric(self, name: str, **labels: str) -> float:
        return sample(self.call("/metrics"), name, **labels)


@pytest.fixture
def stack(tmp_path, database_url, redis, redis_url):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_FORMAT": "json",
        "SOLVER_THREADS": "1",
        "PROGRESS_INTERVAL": "0.25",
    }
    port = free_port()
    procs = [start_web(database_url, redis_url, tmp_path / "web.log", port, workers=2, **env)]
    procs += [
        start_worker(database_url, redis_url, tmp_path / f"worker{i}.log", name=f"solver-{i}", **env) for i in range(2)
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: procs[0].poll() is not None or answers(url), 30, what="gunicorn to answer")
        assert procs[0].poll() is None, (tmp_path / "web.log").read_text()
        stack = Stack(url, procs[1:], admin_headers(database_url))
        wait_for(lambda: len(stack.call("/api/v1/workers")["items"]) == 2, 30, what="two workers registered")
        yield stack
    finally:
        for proc in procs:
            stop_process(proc)


def test_workers_and_queues_report_what_runs_and_what_waits(stack, tmp_path):
    ids = [stack.call("/api/v1/runs", HARD)["id"] for _ in range(4)]
    first_two = wait_for(stack.two_running, 30, what="two runs solving")
    waiting = [i for i in ids if i not in first_two]
    # Every run that solves has been picked by one worker: what the API says is what the DB says.
    wait_for(lambda: all(w["run"] for w in stack.call("/api/v1/workers")["items"]), 10, what="both busy")
    workers = stack.call("/api/v1/workers")["items"]
    assert {w["run"]["id"] for w in workers} == first_two
    assert {w["pid"] for w in workers} == {p.pid for p in stack.workers}
    for w in workers:
        run = stack.call(f"/api/v1/runs/{w['run']['id']}")
        assert run["worker"] == w["run"]["worker"] and run["worker"].startswith(w["name"] + " pid ")
        assert w["host"] == socket.gethostname() and w["state"] == "busy" and not w["stale"]
        assert w["threads"] == 1 and w["heartbeat_age"] < 60
        since, started = (datetime.fromisoformat(t) for t in (w["since"], run["started_at"]))
        assert abs((since - started).total_seconds()) < 2  # RQ started the job; the run row says started
    queues = {q["name"]: q for q in stack.call("/api/v1/queues")["items"]}
    default = queues["default"]
    assert default["depth"] == 2 and default["queued_runs"] == 2
    assert default["oldest"]["id"] == min(waiting) and default["oldest_wait"] > 0
    assert {r["id"] for r in default["running"]} == first_two
    assert queues["high"]["depth"] == 0 and queues["high"]["running"] == []

    # The same picture in /metrics, then the counters move as runs finish (recorded by the workers).
    assert stack.metric("solvequeue_queue_depth", queue="default") == 2
    assert stack.metric("solvequeue_workers", state="busy") == 2
    assert stack.metric("solvequeue_runs_running", queue="default") == 2
    assert stack.metric("solvequeue_runs_submitted_total", problem_type="knapsack") == 4
    finished = ("solvequeue_runs_finished_total", {"problem_type": "knapsack", "status": "canceled"})
    assert stack.metric(finished[0], **finished[1]) == 0
    for run_id in first_two:
        stack.call(f"/api/v1/runs/{run_id}/cancel", method="POST")
    wait_for(lambda: stack.metric(finished[0], **finished[1]) == 2, 30, what="two finished runs counted")
    assert stack.metric("solvequeue_solve_seconds_count", problem_type="knapsack") == 2
    second_two = wait_for(stack.two_running, 30, what="the next two solving")
    assert second_two == set(waiting)
    wait_for(
        lambda: stack.metric("solvequeue_queue_wait_seconds_count", priority="default") == 4,
        10,
        what="four queue waits observed",
    )
    assert stack.metric("solvequeue_queue_depth", queue="default") == 0
    for run_id in second_two:
        stack.call(f"/api/v1/runs/{run_id}/cancel", method="POST")
    wait_for(lambda: stack.metric(finished[0], **finished[1]) == 4, 30, what="four finished runs counted")
    wait_for(lambda: stack.metric("solvequeue_workers", state="idle") == 2, 10, what="both workers idle")
    assert sum(w["jobs_done"] for w in stack.call("/api/v1/workers")["items"]) == 4

    # One JSON line per event in the workers' logs: start, progress, finish for every run.
    events = [
        json.loads(line)
        for i in range(2)
        for line in (tmp_path / f"worker{i}.log").read_text().splitlines()
        if line.startswith("{")
    ]
    by_kind = {kind: {e["run_id"] for e in events if e.get("event") == kind} for kind in ("start", "finish")}
    assert by_kind["start"] == by_kind["finish"] == set(ids)
    finish = next(e for e in events if e.get("event") == "finish")
    assert finish["status"] == "canceled" and finish["problem_type"] == "knapsack" and finish["wall_time"] > 0
    assert any(e.get("event") == "progress" and e.get("objective") is not None for e in events)
