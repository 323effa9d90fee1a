"""Solution quality on the Employee Shift Scheduling Benchmark, solved through the real queue and worker.

    .venv/bin/python bench/quality.py                                   # Instance1-12, 60 s each (12+ min)
    .venv/bin/python bench/quality.py --instances 1-3 --time-limit 10   # a quick look
    .venv/bin/python bench/quality.py --workers 2 --threads 1           # two solves at a time

It starts a private stack (bench/stack.py: own redis-server, temp SQLite file, gunicorn with the
Procfile's settings, N real `rq worker` processes), submits every instance file over HTTP
(POST /api/v1/runs, format "benchmark_text"), polls GET /api/v1/runs/<id> until each run ends, and
prints per instance: the best known objective (best_known.csv), ours (the objective recomputed by the
problem's checker), the gap (ours - best) / best, the time to best (elapsed time of the last progress
point that improved the objective), the solve's wall time, CP-SAT's own objective (it can overstate the
true cost, see DESIGN.md) and the solver status; then the mean gap.
The table is also written as CSV to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "shift_scheduling"
RESULTS = ROOT / "bench" / "results"
POLL_SECONDS = 1.0


def parse_instances(spec: str) -> list[str]:
    """'1-3,7' or 'Instance1,Instance7' -> ['Instance1', 'Instance2', 'Instance3', 'Instance7']."""
    names = []
    for part in spec.split(","):
        part = part.strip().removeprefix("Instance")
        lo, _, hi = part.partition("-")
        names += [f"Instance{i}" for i in range(int(lo), int(hi or lo) + 1)]
    return names


class Api:
    """A tiny JSON client for one server (http.client: no proxy settings can reroute 127.0.0.1)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None):
        self.host, self.port = urlsplit(base_url).hostname, urlsplit(base_url).port
        self.headers = headers or {}  # e.g. the stack's Authorization

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None,
                         {"Content-Type": "application/json", **self.headers})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"{}")
        finally:
            conn.close()


def time_to_best(progress: list[dict]) -> float | None:
    """Elapsed seconds of the last progress point that improved the objective."""
    best, when = math.inf, None
    for point in progress:
        if point["objective"] is not None and point["objective"] < best:
            best, when = point["objective"], point["elapsed"]
    return when


def row_for(instance: str, best: float, run: dict) -> dict:
    ours = run.get("objective")
    status = run.get("solver_status") or "-"
    if run.get("status") != "succeeded":
        status = f"{run.get('status')}/{status}" + (f" ({run['error']})" if run.get("error") else "")
    return {
        "instance": instance,
        "best_known": best,
        "ours": ours,
        "gap_pct": None if ours is None else 100 * (ours - best) / best,
        "solver_objective": run.get("solver_objective"),  # CP-SAT's own figure; may overstate (DESIGN.md)
        "status": status,
        "time_to_best_s": time_to_best(run.get("progress", [])),
        "wall_time_s": run.get("wall_time"),
        "threads": run.get("threads"),
        "run_id": run.get("id"),
    }


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="1-12", help="e.g. 1-12, 1,5,9 or Instance3 (default 1-12)")
    parser.add_argument("--time-limit", type=float, default=60, help="seconds per solve (default 60)")
    parser.add_argument("--workers", type=int, default=1, help="rq worker processes (default 1)")
    parser.add_argument("--threads", type=int, default=None, help="CP-SAT workers per solve (default: server's)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"instance folder (default {DATA})")
    args = parser.parse_args()
    instances = parse_instances(args.instances)
    with open(args.data / "best_known.csv") as f:
        best_known = {r["instance"]: float(r["best_known"]) for r in csv.DictReader(f)}

    started = datetime.now()
    rows: list[dict] = []
    with Stack() as stack:
        api = Api(stack.start_web(), stack.auth)
        stack.start_workers(args.workers)
        # Submit everything at once: the workers take the runs from the queue in order.
        run_ids: dict[str, int] = {}
        for name in instances:
            body = {"problem_type": "shift_scheduling", "format": "benchmark_text", "name": name,
                    "input": (args.data / f"{name}.txt").read_text(), "time_limit": args.time_limit}
            if args.threads:
                body["threads"] = args.threads
            status, run = api.call("POST", "/api/v1/runs", body)
            if status != 202:
                print(f"{name}: submit failed, HTTP {status}: {json.dumps(run)[:500]}", file=sys.stderr)
                return 2
            run_ids[name] = run["id"]
        print(f"{started:%Y-%m-%d %H:%M}  {len(instances)} instances, time limit {args.time_limit:g} s, "
              f"{args.workers} worker(s), CP-SAT threads per solve: {run['threads']}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)

        # Poll until every run has ended; bounded: each batch of runs gets its time limit plus a margin.
        batches = math.ceil(len(instances) / args.workers)
        deadline = time.monotonic() + batches * (args.time_limit + 30) + 60
        finished: dict[str, dict] = {}
        while len(finished) < len(instances) and time.monotonic() < deadline:
            for name in instances:
                if name not in finished:
                    status, run = api.call("GET", f"/api/v1/runs/{run_ids[name]}")
                    if status == 200 and run["terminal"]:
                        finished[name] = run
                        print(f"  {name}: {run['status']} {run['solver_status']} objective {run['objective']}",
                              flush=True)
            time.sleep(POLL_SECONDS)
        for name in instances:
            if name not in finished:  # never reached a terminal state: report what it had
                finished[name] = {**api.call("GET", f"/api/v1/runs/{run_ids[name]}")[1], "status": "timeout"}
            rows.append(row_for(name, best_known[name], finished[name]))

    print(f"\n{'instance':<11} {'best':>6} {'ours':>6} {'gap %':>7} {'to best s':>9} {'wall s':>7} "
          f"{'solver':>6}  status")
    for r in rows:
        print(f"{r['instance']:<11} {r['best_known']:>6.0f} {fmt(r['ours'], '.0f'):>6} {fmt(r['gap_pct'], '.2f'):>7} "
              f"{fmt(r['time_to_best_s'], '.1f'):>9} {fmt(r['wall_time_s'], '.1f'):>7} "
              f"{fmt(r['solver_objective'], '.0f'):>6}  {r['status']}")
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    mean = f"{sum(gaps) / len(gaps):.2f} %" if gaps else "-"
    print(f"mean gap: {mean} over {len(gaps)} of {len(rows)} instances with a solution; "
          f"load average at the end (1/5/15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"quality-{args.time_limit:g}s-{started:%Y%m%d-%H%M%S}.csv"
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"CSV: {out.relative_to(ROOT)}")
    return 0 if len(gaps) == len(rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started is stopped")
