"""League scheduling: model size and build time, time to the first valid schedule, objective over time.

    .venv/bin/python bench/league.py                                  # every demo, 60 s each (+ sizes)
    .venv/bin/python bench/league.py --demos 200_teams --time-limit 10  # a quick look
    .venv/bin/python bench/league.py --demos 200_teams --reference 300  # the 60 s result vs a 300 s run

Part 1 runs in this process: for each demo, the time to validate, choose the pairings (stage 1),
build the date model of the whole season (stage 2, one model: its size is what the type avoids solving
as one piece) and of one neighbourhood, and the greedy season. Part 2 goes through the real queue and
worker (bench/stack.py: own redis-server, temp SQLite, gunicorn, `rq worker`): it submits each demo
over HTTP with 2 CP-SAT workers, polls until the run ends, and prints the time from submit to the first
complete valid schedule (as the client sees it, and as the run's own progress clock says), the
objective at fixed times and at the end, and the status. With --reference it also solves each demo
for that many seconds and prints how far the --time-limit result is from it. Targets (issue 6): model
built <= 3 s, first valid schedule <= 10 s, objective at 60 s within 10 % of 300 s.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import Api  # noqa: E402
from bench.stack import Stack  # noqa: E402

DEMOS = ["small", "medium", "200_teams"]
MARKS = [5, 10, 20, 30, 60, 120, 300]


def sizes(demo: str) -> dict:
    """Stage timings and model sizes, in this process."""
    from app.problems.league_scheduling import PROBLEM, construct, games, model
    from app.problems.league_scheduling.search import neighbourhoods
    from app.problems.league_scheduling.season import Calendar

    t0 = time.perf_counter()
    inp = PROBLEM.validate(PROBLEM.demos[demo]().model_dump(mode="json"))
    t1 = time.perf_counter()
    cal = Calendar(inp)
    season = games.choose(inp, cal)
    t2 = time.perf_counter()
    full, v = model.build(inp, season)
    t3 = time.perf_counter()
    plan = construct.greedy_plan(cal, season)
    t4 = time.perf_counter()
    free = neighbourhoods(inp, season, 0)[0]
    part, _ = model.build(inp, season, free=free, fixed={g: w for g, w in plan.items() if g not in free})
    t5 = time.perf_counter()
    return {
        "teams": len(inp.teams()),
        "games": len(season),
        "dates": len(cal.dates),
        "validate_s": t1 - t0,
        "pairings_s": t2 - t1,
        "full_build_s": t3 - t2,
        "full_vars": len(full.proto.variables),
        "full_constraints": len(full.proto.constraints),
        "greedy_s": t4 - t3,
        "greedy_placed": len(plan),
        "nbhd_build_s": t5 - t4,
        "nbhd_vars": len(part.proto.variables),
        "nbhd_games": len(free),
    }


def objective_at(progress: list[dict], seconds: float) -> float | None:
    """The incumbent's objective at `seconds` of the run's own clock."""
    best = None
    for p in progress:
        if p["elapsed"] <= seconds and p["objective"] is not None:
            best = p["objective"] if best is None else min(best, p["objective"])
    return best


def solve(api: Api, demo: str, time_limit: float, threads: int) -> dict:
    submitted = time.monotonic()
    status, run = api.call(
        "POST",
        "/api/v1/runs",
        {"problem_type": "league_scheduling", "demo": demo, "time_limit": time_limit, "threads": threads},
    )
    if status != 202:
        raise SystemExit(f"{demo}: submit failed, HTTP {status}: {run}")
    first_seen = None
    deadline = submitted + time_limit + 120
    while time.monotonic() < deadline:
        _, run = api.call("GET", f"/api/v1/runs/{run['id']}")
        if first_seen is None and run.get("num_solutions"):
            first_seen = time.monotonic() - submitted
        if run["terminal"]:
            break
        time.sleep(0.2)
    progress = run.get("progress") or []
    first = next((p["elapsed"] for p in progress if p["objective"] is not None), None)
    return {"run": run, "first_seen_s": first_seen, "first_progress_s": first, "progress": progress}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demos", default=",".join(DEMOS), help=f"comma-separated, of {', '.join(DEMOS)}")
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--threads", type=int, default=2, help="CP-SAT workers per solve (default 2)")
    parser.add_argument("--reference", type=float, default=None, help="also solve this long and compare")
    parser.add_argument("--sizes-only", action="store_true", help="part 1 only (no stack)")
    args = parser.parse_args()
    demos = [d.strip() for d in args.demos.split(",") if d.strip()]
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    print(
        f"\n{'demo':<10} {'teams':>5} {'games':>5} {'dates':>5} {'pairs s':>7} {'build s':>7} {'vars':>7} "
        f"{'cons':>7} {'greedy s':>8} {'placed':>6} {'nbhd s':>6} {'nbhd vars':>9}"
    )
    for demo in demos:
        s = sizes(demo)
        print(
            f"{demo:<10} {s['teams']:>5} {s['games']:>5} {s['dates']:>5} {s['pairings_s']:>7.2f} "
            f"{s['full_build_s']:>7.2f} {s['full_vars']:>7} {s['full_constraints']:>7} {s['greedy_s']:>8.2f} "
            f"{s['greedy_placed']:>6} {s['nbhd_build_s']:>6.2f} {s['nbhd_vars']:>9}"
        )
    if args.sizes_only:
        return 0

    marks = [m for m in MARKS if m < args.time_limit] + [args.time_limit]
    with Stack() as stack:
        api = Api(stack.start_web(), stack.auth)
        stack.start_workers(1)
        print(
            f"\n{'demo':<10} {'limit':>5} {'1st seen s':>10} {'1st run s':>9} "
            + " ".join(f"{'@' + format(m, 'g') + 's':>7}" for m in marks)
            + f" {'final':>7}  status"
        )
        for demo in demos:
            for limit in [args.time_limit] + ([args.reference] if args.reference else []):
                r = solve(api, demo, limit, args.threads)
                run = r["run"]
                at = [objective_at(r["progress"], m) for m in marks]
                line = (
                    f"{demo:<10} {limit:>5g} {fmt(r['first_seen_s'], '.2f'):>10} "
                    f"{fmt(r['first_progress_s'], '.2f'):>9} "
                    + " ".join(f"{fmt(x, '.0f'):>7}" for x in at)
                    + f" {fmt(run.get('objective'), '.0f'):>7}  {run['status']}/{run.get('solver_status')}"
                )
                print(line, flush=True)
                if limit == args.time_limit:
                    short = run.get("objective")
                elif short is not None and run.get("objective"):
                    gap = 100 * (short - run["objective"]) / run["objective"]
                    print(f"{'':<10} {args.time_limit:g} s result is {gap:.2f} % above the {limit:g} s one")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def fmt(value, spec: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started is stopped")
