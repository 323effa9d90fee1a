"""Do the pages and the API stay fast with 10,000 finished runs and 100,000 progress points?

    .venv/bin/python bench/scale.py                    # SQLite, then --postgres for PostgreSQL
    .venv/bin/python bench/scale.py --runs 10000 --points 100000 --requests 200 --postgres

For each database it starts a private stack (bench/stack.py: gunicorn with the Procfile's settings, no
worker), runs two web servers side by side: one on a nearly empty database (one page of finished runs and one
running run: the lists render the same 20 rows on both sides), one on a database filled with --runs
finished runs (small-demo input and a real stored result each) and --points progress points; the two
servers take turns, so a change in the machine's load hits both alike:

    home page            GET /
    runs list API        GET /api/v1/runs?per_page=20, with ?status=succeeded, ?problem_type=..., and the
                         next page through the keyset cursor (?before=<id>) deep in the list
    run page             GET /runs/<id> of a finished run (with its roster)
    status poll          GET /runs/<id>/status of the running run (what the page polls every second)

Requests are sequential from one keep-alive connection per server, so the figures are the app's
latency, not a load test. Prints p50/p99 per endpoint, empty vs full, and the ratio (target: p50 ratio <= 1.5).
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from app import db  # noqa: E402
from app.models import ProgressPoint, Run, utcnow  # noqa: E402
from app.problems.shift_scheduling import build, demo, extract  # noqa: E402
from bench.stack import Stack  # noqa: E402

TARGET = 1.5
PAGE = 20  # the "empty" database holds one page of runs, so both sides render the same page


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def solved_small_demo() -> tuple[dict, dict]:
    """A real input and a real stored result (roster + breakdown) of the small demo."""
    from ortools.sat.python import cp_model

    from app.problems import get

    problem = get("shift_scheduling")
    inp = demo("small")
    model, variables = build(inp)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5
    solver.solve(model)
    solution = extract(inp, variables, solver.value)
    check = problem.check(inp, solution)
    result = {
        "solution": solution,
        "breakdown": problem.breakdown(check),
        "checked": True,
        "summary": problem.summary(inp),
    }
    return inp.model_dump(mode="json"), result


def fill(database_url: str, runs: int, points: int, statuses=("succeeded", "failed", "canceled")) -> list[int]:
    """Insert `runs` finished runs and `points` progress points spread over them, in bulk."""
    inp, result = solved_small_demo()
    now = utcnow()
    rng = random.Random(1)
    rows = []
    for i in range(runs):
        created = now - timedelta(minutes=runs - i)
        rows.append(
            {
                "problem_type": "shift_scheduling",
                "name": f"bench run {i}",
                "status": rng.choice(statuses),
                "priority": "default",
                "time_limit": 30.0,
                "threads": 2,
                "input": inp,
                "input_format": "demo",
                "result": result,
                "solver_status": "FEASIBLE",
                "objective": 100.0 + i % 50,
                "best_bound": 90.0,
                "gap": 0.1,
                "num_solutions": 10,
                "wall_time": 12.0,
                "stats": {"seed": 0},
                "created_at": created,
                "started_at": created,
                "finished_at": created + timedelta(seconds=12),
                "attempt": 1,
                "worker": "bench pid 1",
            }
        )
    ids = []
    with db.write(database_url) as conn:
        for chunk in range(0, len(rows), 1000):
            ids += conn.execute(insert(Run).returning(Run.id), rows[chunk : chunk + 1000]).scalars().all()
        per_run = max(1, points // max(1, runs))
        batch = []
        for run_id in ids:
            for k in range(per_run):
                batch.append(
                    {
                        "run_id": run_id,
                        "elapsed": k * 0.5,
                        "objective": 200.0 - k,
                        "bound": 90.0 + k * 0.1,
                        "attempt": 1,
                    }
                )
            if len(batch) >= 5000:
                conn.execute(insert(ProgressPoint), batch)
                batch = []
        if batch:
            conn.execute(insert(ProgressPoint), batch)
    if database_url.startswith("postgresql"):  # what autovacuum does to a table that grew: statistics and
        # the visibility map (without it, an index-only count still reads every row)
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    return ids


def seed_pair(database_url: str) -> tuple[int, int]:
    """One finished run (to view) and one running run with 200 progress points (to poll)."""
    finished = fill(database_url, 1, 100)[0]
    inp, _ = solved_small_demo()
    with db.write(database_url) as conn:
        running = conn.execute(
            insert(Run).returning(Run.id),
            {
                "problem_type": "shift_scheduling",
                "name": "running",
                "status": "running",
                "priority": "default",
                "time_limit": 3600.0,
                "threads": 2,
                "input": inp,
                "input_format": "demo",
                "created_at": utcnow(),
                "started_at": utcnow(),
                "attempt": 1,
                "num_solutions": 5,
                "objective": 150.0,
            },
        ).scalar_one()
        conn.execute(
            insert(ProgressPoint),
            [
                {"run_id": running, "elapsed": k * 0.5, "objective": 300.0 - k, "bound": 90.0, "attempt": 1}
                for k in range(200)
            ],
        )
    return finished, running


AUTH: dict[str, dict[str, str]] = {}  # base URL -> its stack admin's Authorization header


class Client:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.headers = headers or {}

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            self.conn.request("GET", path, headers=self.headers)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # gunicorn closes a keep-alive connection idle for a few seconds (while the other server
            # had its turn): connect again.
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.request("GET", path, headers=self.headers)
            resp = self.conn.getresponse()
        return resp.status, resp.read()


def time_endpoints(servers: dict[str, tuple[str, dict[str, str]]], requests: int, rounds: int = 5) -> dict:
    """{server: {endpoint: [seconds]}}: servers take turns in `rounds` rounds, so a change in the
    machine's load hits both alike."""
    clients = {name: Client(url, AUTH.get(url)) for name, (url, _) in servers.items()}
    out: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
    for name, (_, paths) in servers.items():
        for endpoint, path in paths.items():
            for _ in range(5):  # warm caches and connections
                status, body = clients[name].get(path)
                assert status == 200, (name, endpoint, path, status, body[:300])
    for _ in range(rounds):
        for name, (_, paths) in servers.items():
            for endpoint, path in paths.items():
                samples = out[name].setdefault(endpoint, [])
                for _ in range(max(1, requests // rounds)):
                    t = time.perf_counter()
                    clients[name].get(path)
                    samples.append(time.perf_counter() - t)
    return out


def endpoints(finished: int, running: int, deep_before: int) -> dict[str, str]:
    return {
        "home page": "/",
        "runs list API": "/api/v1/runs?per_page=20",
        "list ?status=succeeded": "/api/v1/runs?per_page=20&status=succeeded",
        "list ?problem_type=": "/api/v1/runs?per_page=20&problem_type=shift_scheduling",
        "list deep (keyset)": f"/api/v1/runs?per_page=20&before={deep_before}",
        "run page": f"/runs/{finished}",
        "status poll": f"/runs/{running}/status",
    }


def measure(postgres: bool, runs: int, points: int, requests: int) -> None:
    """Two web servers side by side, one on a nearly empty database, one on the filled one."""
    with (
        Stack(env={"WEB_CONCURRENCY": "1"}, postgres=postgres) as full_stack,
        Stack(env={"WEB_CONCURRENCY": "1"}, postgres=postgres) as empty_stack,
    ):
        e_finished, e_running = seed_pair(empty_stack.database_url)
        # One full page, all succeeded: every list below renders 20 rows on both sides (the filtered one too).
        e_ids = fill(empty_stack.database_url, PAGE, PAGE * 10, statuses=("succeeded",))
        f_finished, f_running = seed_pair(full_stack.database_url)
        ids = fill(full_stack.database_url, runs, points)
        servers = {
            "empty": (empty_stack.start_web(), endpoints(e_finished, e_running, max(e_ids) + 1)),
            "full": (full_stack.start_web(), endpoints(f_finished, f_running, ids[len(ids) // 10])),
        }
        AUTH.update({servers["empty"][0]: empty_stack.auth, servers["full"][0]: full_stack.auth})
        timed = time_endpoints(servers, requests)
    empty, full = timed["empty"], timed["full"]
    kind = "PostgreSQL" if postgres else "SQLite"
    print(
        f"\n{kind}: {runs:,} finished runs, {points:,} progress points; {requests} sequential requests each, "
        "empty and full servers taking turns"
    )
    print(f"{'endpoint':24} {'empty p50':>10} {'p99':>8} {'full p50':>10} {'p99':>8} {'p50 ratio':>10}")
    worst = 0.0
    for name in empty:
        e50, e99 = percentile(empty[name], 50) * 1000, percentile(empty[name], 99) * 1000
        f50, f99 = percentile(full[name], 50) * 1000, percentile(full[name], 99) * 1000
        ratio = f50 / e50
        worst = max(worst, ratio)
        print(f"{name:24} {e50:8.2f}ms {e99:6.2f}ms {f50:8.2f}ms {f99:6.2f}ms {ratio:9.2f}x")
    print(f"worst p50 ratio {worst:.2f}x (target <= {TARGET}x): {'PASS' if worst <= TARGET else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (2 cores: want < 1)")
    measure(args.postgres, args.runs, args.points, args.requests)


if __name__ == "__main__":
    main()
