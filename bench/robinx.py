"""Round-robin timetabling against the world's best: ITC2021 and traveling-tournament instances,
solved through the real queue and worker.

    .venv/bin/python bench/robinx.py                                  # 40 ITC2021 + 25 TTP, 120 s each (2+ h)
    .venv/bin/python bench/robinx.py --set itc                        # the 40 ITC2021 instances only
    .venv/bin/python bench/robinx.py --instances Early_09,nl4 --time-limit 20   # a quick look

It starts a private stack (bench/stack.py: own redis-server, temp SQLite file, gunicorn with the
Procfile's settings, real `rq worker` processes), submits each RobinX file over HTTP (POST /api/v1/runs,
format "robinx_xml", 2 CP-SAT threads by default), polls until each run ends and prints per instance:
the best known objective, ours (recomputed by the checker), ours / best, the time to the first
feasible timetable (0 hard violations) and to the best, and the status. Then, for ITC2021: instances
solved feasible, the median ratio (an instance without a timetable counts as infinitely bad; best known 0
counts as ratio 1 when reached); for TTP: best known reached on <= 8 teams, the gap on NL10-NL16.
The table is also written as CSV to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import Api, fmt, time_to_best, wait_for_runs  # noqa: E402
from bench.stack import Stack  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks"
ITC, TTP = DATA / "sports_itc2021", DATA / "sports_league"
RESULTS = ROOT / "bench" / "results"
POLL_SECONDS = 1.0


def catalogue() -> dict[str, tuple[Path, float, str]]:
    """Every instance: name -> (file, best known, set)."""
    out = {}
    for row in csv.DictReader((ITC / "best_known.csv").read_text().splitlines()):
        out[row["instance"]] = (ITC / "instances" / f"{row['instance']}.xml", float(row["best_known"]), "itc")
    for row in csv.DictReader((TTP / "best_known.csv").read_text().splitlines()):
        out[row["instance"]] = (TTP / f"{row['instance']}.xml", float(row["best_known"]), "ttp")
    return out


def choose(spec: str | None, which: str, known: dict) -> list[str]:
    """Names from 'Early_09,nl4' (a name or its end), else every instance of the set."""
    if not spec:
        return [n for n, (_, _, s) in known.items() if which in ("all", s)]
    names = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        hits = [n for n in known if n == part or n.endswith(part)]
        if not hits:
            raise SystemExit(f"unknown instance {part!r}")
        names += hits
    return names


def first_feasible(progress: list[dict]) -> float | None:
    return next((p["elapsed"] for p in progress if p["objective"] is not None), None)


def ratio(ours: float | None, best: float) -> float:
    if ours is None:
        return math.inf
    return ours / best if best > 0 else (1.0 if ours == 0 else math.inf)


def row_for(name: str, best: float, which: str, teams: int, run: dict) -> dict:
    ours = run.get("objective")
    status = run.get("solver_status") or "-"
    if run.get("status") != "succeeded":
        status = f"{run.get('status')}/{status}" + (f" ({run['error']})" if run.get("error") else "")
    progress = run.get("progress", [])
    return {
        "instance": name,
        "set": which,
        "teams": teams,
        "best_known": best,
        "ours": ours,
        "ratio": ratio(ours, best),
        "first_feasible_s": first_feasible(progress),
        "time_to_best_s": time_to_best(progress),
        "status": status,
        "wall_time_s": run.get("wall_time"),
        "threads": run.get("threads"),
        "run_id": run.get("id"),
    }


def summary(rows: list[dict]) -> list[str]:
    lines = []
    itc = [r for r in rows if r["set"] == "itc"]
    if itc:
        feasible = [r for r in itc if r["ours"] is not None]
        med = statistics.median(r["ratio"] for r in itc)
        firsts = [r["first_feasible_s"] for r in feasible if r["first_feasible_s"] is not None]
        lines.append(
            f"ITC2021: feasible on {len(feasible)} of {len(itc)} (target >= 36 of 40); median ratio to best known "
            f"{med:.2f} over all (target <= 2.00)"
            + (f", {statistics.median(r['ratio'] for r in feasible):.2f} over the feasible" if feasible else "")
            + (f"; median time to first feasible {statistics.median(firsts):.1f} s" if firsts else "")
        )
    ttp = [r for r in rows if r["set"] == "ttp"]
    if ttp:
        small = [r for r in ttp if r["teams"] <= 8]
        reached = [r for r in small if r["ours"] is not None and r["ours"] <= r["best_known"]]
        lines.append(f"TTP: best known reached on {len(reached)} of {len(small)} with <= 8 teams")
        for r in ttp:
            if r["instance"].startswith("nl") and r["teams"] >= 10:
                gap = "-" if r["ours"] is None else f"{100 * (r['ours'] - r['best_known']) / r['best_known']:.1f} %"
                lines.append(f"  {r['instance']}: gap {gap}")
    return lines


def teams_of(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("<team ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", help="comma-separated names or their ends, e.g. Early_09,Late_04,nl8")
    parser.add_argument("--set", choices=("all", "itc", "ttp"), default="all", help="without --instances")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds per solve (default 120)")
    parser.add_argument("--threads", type=int, default=2, help="CP-SAT workers per solve (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="rq worker processes (default 1)")
    args = parser.parse_args()
    known = catalogue()
    names = choose(args.instances, args.set, known)

    started = datetime.now()
    rows: list[dict] = []
    with Stack() as stack:
        api = Api(stack.start_web(), stack.auth)
        stack.start_workers(args.workers)
        run_ids: dict[str, int] = {}
        for name in names:
            path = known[name][0]
            body = {
                "problem_type": "round_robin",
                "format": "robinx_xml",
                "name": name,
                "threads": args.threads,
                "input": path.read_text(encoding="utf-8"),
                "time_limit": args.time_limit,
            }
            status, run = api.call("POST", "/api/v1/runs", body)
            if status != 202:
                print(f"{name}: submit failed, HTTP {status}: {json.dumps(run)[:500]}", file=sys.stderr)
                return 2
            run_ids[name] = run["id"]
        print(
            f"{started:%Y-%m-%d %H:%M}  {len(names)} instances, time limit {args.time_limit:g} s, "
            f"{args.workers} worker(s), {args.threads} CP-SAT threads per solve, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        finished = wait_for_runs(
            api, run_ids, args.workers, args.time_limit,
            lambda name, run: f"{run['status']} objective {run['objective']} (best known {known[name][1]:g})",
        )
        for name in names:
            path, best, which = known[name]
            rows.append(row_for(name, best, which, teams_of(path), finished[name]))

    print(f"\n{'instance':<18} {'best':>7} {'ours':>7} {'ratio':>6} {'1st feas s':>10} {'to best s':>9}  status")
    for r in rows:
        print(
            f"{r['instance']:<18} {r['best_known']:>7.0f} {fmt(r['ours'], '.0f'):>7} {r['ratio']:>6.2f} "
            f"{fmt(r['first_feasible_s'], '.1f'):>10} {fmt(r['time_to_best_s'], '.1f'):>9}  {r['status']}"
        )
    for line in summary(rows):
        print(line)
    print(f"load average at the end (1/5/15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"robinx-{args.time_limit:g}s-{started:%Y%m%d-%H%M%S}.csv"
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"CSV: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started is stopped")
