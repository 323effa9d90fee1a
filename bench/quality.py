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
It also reports the time to the first feasible roster and the load average at the start and the end.
`--held-back 1-8` adds the generated held-back rosters (bench/roster_generator.py, submitted as JSON);
they have no published best, so their gap is to the best any run has found (bench/results/
held_back_best.csv, updated by each run). The table is written as CSV to bench/results/ (gitignored)
and appended, one line per instance, to bench/results/quality_history.csv (kept in git).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.roster_generator import generate  # noqa: E402
from bench.stack import Stack  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "shift_scheduling"
RESULTS = ROOT / "bench" / "results"
HISTORY = RESULTS / "quality_history.csv"
HELD_BACK_BEST = RESULTS / "held_back_best.csv"
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


def wait_for_runs(api: Api, run_ids: dict[str, int], workers: int, time_limit: float, describe) -> dict[str, dict]:
    """Poll until every run has ended, printing `describe(name, run)` as each does; bounded: each batch of runs
    gets its time limit plus a margin. A run that never ended is reported as it was, status "timeout"."""
    deadline = time.monotonic() + math.ceil(len(run_ids) / workers) * (time_limit + 30) + 60
    finished: dict[str, dict] = {}
    while len(finished) < len(run_ids) and time.monotonic() < deadline:
        for name, run_id in run_ids.items():
            if name not in finished:
                status, run = api.call("GET", f"/api/v1/runs/{run_id}")
                if status == 200 and run["terminal"]:
                    finished[name] = run
                    print(f"  {name}: {describe(name, run)}", flush=True)
        time.sleep(POLL_SECONDS)
    for name, run_id in run_ids.items():
        if name not in finished:
            finished[name] = {**api.call("GET", f"/api/v1/runs/{run_id}")[1], "status": "timeout"}
    return finished


def time_to_best(progress: list[dict]) -> float | None:
    """Elapsed seconds of the last progress point that improved the objective."""
    best, when = math.inf, None
    for point in progress:
        if point["objective"] is not None and point["objective"] < best:
            best, when = point["objective"], point["elapsed"]
    return when


def first_feasible(progress: list[dict]) -> float | None:
    """Elapsed seconds of the first progress point with a solution."""
    return next((point["elapsed"] for point in progress if point["objective"] is not None), None)


def row_for(instance: str, best: float | None, run: dict) -> dict:
    ours = run.get("objective")
    best = best if best is not None else ours  # a held-back roster nobody has solved yet
    status = run.get("solver_status") or "-"
    if run.get("status") != "succeeded":
        status = f"{run.get('status')}/{status}" + (f" ({run['error']})" if run.get("error") else "")
    return {
        "instance": instance,
        "best_known": best,
        "ours": ours,
        "gap_pct": None if ours is None or not best else 100 * (ours - best) / best,
        "bound": run.get("best_bound"),  # proven lower bound: (ours - bound) / ours bounds the true gap
        "solver_objective": run.get("solver_objective"),  # CP-SAT's own figure; may overstate (DESIGN.md)
        "status": status,
        "time_to_best_s": time_to_best(run.get("progress", [])),
        "first_feasible_s": first_feasible(run.get("progress", [])),
        "wall_time_s": run.get("wall_time"),
        "threads": run.get("threads"),
        "run_id": run.get("id"),
    }


def submissions(args: argparse.Namespace) -> dict[str, dict]:
    """The run submissions, by instance name: benchmark files (their text format) and held-back rosters (JSON)."""
    bodies = {
        name: {"problem_type": "shift_scheduling", "format": "benchmark_text", "name": name,
               "input": (args.data / f"{name}.txt").read_text(), "time_limit": args.time_limit}
        for name in (parse_instances(args.instances) if args.instances else [])
    }  # fmt: skip
    if args.held_back:
        lo, _, hi = args.held_back.partition("-")
        for number in range(int(lo), int(hi or lo) + 1):
            bodies[f"HeldBack{number}"] = {"problem_type": "shift_scheduling", "name": f"HeldBack{number}",
                                           "input": generate(number).model_dump(), "time_limit": args.time_limit}
    return bodies


def held_back_best() -> dict[str, float]:
    """The best objective any run has found for each held-back roster (they have no published best)."""
    if not HELD_BACK_BEST.exists():
        return {}
    with open(HELD_BACK_BEST) as f:
        return {r["instance"]: float(r["best_known"]) for r in csv.DictReader(f)}


def update_held_back_best(rows: list[dict]) -> None:
    best = held_back_best()
    for r in rows:
        if r["instance"].startswith("HeldBack") and r["ours"] is not None:
            best[r["instance"]] = min(best.get(r["instance"], math.inf), r["ours"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(HELD_BACK_BEST, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")  # plain LF lines in git
        writer.writerow(["instance", "best_known"])
        writer.writerows(sorted(best.items()))


def append_history(rows: list[dict], started: datetime, args: argparse.Namespace, load_start, load_end) -> None:
    """One line per instance and run in bench/results/quality_history.csv (kept in git: the trend)."""
    new = not HISTORY.exists()
    with open(HISTORY, "a", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")  # plain LF lines in git
        if new:
            writer.writerow(["started", "commit", "time_limit", "threads", "instance", "best_known", "ours", "gap_pct",
                             "first_feasible_s", "time_to_best_s", "status", "load_start_1m", "load_end_1m"])
        for r in rows:
            writer.writerow([f"{started:%Y-%m-%d %H:%M:%S}", commit(), args.time_limit, r["threads"], r["instance"],
                             r["best_known"], r["ours"], fmt(r["gap_pct"], ".2f"), fmt(r["first_feasible_s"], ".2f"),
                             fmt(r["time_to_best_s"], ".2f"), r["status"], f"{load_start[0]:.2f}",
                             f"{load_end[0]:.2f}"])


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip()
    except OSError:
        return ""


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="1-12", help="e.g. 1-12, 1,5,9 or Instance3 (default 1-12)")
    parser.add_argument("--time-limit", type=float, default=60, help="seconds per solve (default 60)")
    parser.add_argument("--workers", type=int, default=1, help="rq worker processes (default 1)")
    parser.add_argument("--threads", type=int, default=None, help="CP-SAT workers per solve (default: server's)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"instance folder (default {DATA})")
    parser.add_argument("--held-back", default="", help="also generated rosters (bench/roster_generator.py), e.g. 1-8")
    args = parser.parse_args()
    bodies = submissions(args)
    instances = list(bodies)
    with open(args.data / "best_known.csv") as f:
        best_known = {r["instance"]: float(r["best_known"]) for r in csv.DictReader(f)}
    best_known |= held_back_best()
    load_at_start = os.getloadavg()

    started = datetime.now()
    rows: list[dict] = []
    with Stack() as stack:
        api = Api(stack.start_web(), stack.auth)
        stack.start_workers(args.workers)
        # Submit everything at once: the workers take the runs from the queue in order.
        run_ids: dict[str, int] = {}
        for name, body in bodies.items():
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

        finished = wait_for_runs(
            api, run_ids, args.workers, args.time_limit,
            lambda _, run: f"{run['status']} {run['solver_status']} objective {run['objective']}",
        )
        for name in instances:
            rows.append(row_for(name, best_known.get(name), finished[name]))

    print(f"\n{'instance':<11} {'best':>6} {'ours':>6} {'gap %':>7} {'first s':>7} {'to best s':>9} {'wall s':>7} "
          f"{'solver':>6}  status")
    for r in rows:
        print(f"{r['instance']:<11} {fmt(r['best_known'], '.0f'):>6} {fmt(r['ours'], '.0f'):>6} "
              f"{fmt(r['gap_pct'], '.2f'):>7} {fmt(r['first_feasible_s'], '.1f'):>7} "
              f"{fmt(r['time_to_best_s'], '.1f'):>9} {fmt(r['wall_time_s'], '.1f'):>7} "
              f"{fmt(r['solver_objective'], '.0f'):>6}  {r['status']}")
    load_at_end = os.getloadavg()
    for group in ("Instance", "HeldBack"):
        gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None and r["instance"].startswith(group)]
        if gaps:
            print(f"{group}: mean gap {sum(gaps) / len(gaps):.2f} %, max {max(gaps):.2f} % over {len(gaps)} "
                  f"with a solution")
    print(f"load average (1/5/15 min) at the start: {' '.join(f'{x:.1f}' for x in load_at_start)}, "
          f"at the end: {' '.join(f'{x:.1f}' for x in load_at_end)}")
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    update_held_back_best(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"quality-{args.time_limit:g}s-{started:%Y%m%d-%H%M%S}.csv"
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    append_history(rows, started, args, load_at_start, load_at_end)
    print(f"CSV: {out.relative_to(ROOT)}; history appended to {HISTORY.relative_to(ROOT)}")
    return 0 if len(gaps) == len(rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started is stopped")
