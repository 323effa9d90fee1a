"""Where a tiny run's worker time goes, part by part (the table behind bench/throughput.py's overhead).

    .venv/bin/python bench/run_profile.py            # 200 repetitions of each part
    .venv/bin/python bench/run_profile.py --postgres

Each part of what a worker does for one run is timed on its own, in this process, against a private
redis-server and a temp SQLite file (or a throwaway PostgreSQL database): the parts a forked work horse
pays for (fork with OR-Tools loaded, a fresh database connection and Redis connection), then every
step of `solve_run` for a tiny shift-scheduling run (tiny demo, 1 CP-SAT thread). Prints the median of
each part in milliseconds; "solver" is CP-SAT's own solve, everything else is overhead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ortools.sat.python import cp_model  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from app import config, db, lifecycle, problems, queueing, runs  # noqa: E402
from app.models import RunStatus  # noqa: E402
from bench.stack import Stack  # noqa: E402
from workers import jobs  # noqa: E402


def timed(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def fork_and_exit() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (2 cores: want < 1)")
    with Stack(postgres=args.postgres) as stack:
        os.environ.update(DATABASE_URL=stack.database_url, REDIS_URL=stack.redis_url, SOLVER_NICE="0")
        settings = config.load()
        problem = problems.get("shift_scheduling")
        body = {"problem_type": "shift_scheduling", "demo": "tiny", "threads": 1}
        ids = iter([runs.submit(body, settings).id for _ in range(args.n * 2 + 2)])
        sample = runs.get(next(ids), settings)
        inp = problem.validate(sample.input)
        model, variables = problem.build(inp)
        solution = None

        def solve() -> None:
            nonlocal solution
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            for k, v in problem.solver_params.items():
                getattr(solver.parameters, k).extend(v) if isinstance(v, list) else setattr(solver.parameters, k, v)
            solver.solve(model)
            solution = problem.extract(inp, variables, solver.value)

        def start_and_finish() -> None:
            run_id = next(ids)
            with db.session(settings.DATABASE_URL) as s:
                lifecycle.start(s, run_id, "bench pid 1")
            with db.session(settings.DATABASE_URL) as s:
                lifecycle.finish(
                    s,
                    run_id,
                    RunStatus.SUCCEEDED,
                    owner="bench pid 1",
                    points=[{"elapsed": 0.01, "objective": 1.0, "bound": 1.0, "attempt": 1}],
                    result={"solution": solution},
                    objective=1.0,
                )

        def whole_job() -> None:
            jobs.solve_run(next(ids))

        redis = queueing.connect(settings.REDIS_URL)
        parts = {
            "fork + exit of a process with OR-Tools loaded (forked work horse only)": fork_and_exit,
            "new DB engine + first query (forked work horse only)": lambda: (
                create_engine(stack.database_url).connect().execute(text("SELECT 1"))
            ),
            "new Redis connection + PING (forked work horse only)": lambda: Redis.from_url(stack.redis_url).ping(),
            "validate the stored input (pydantic)": lambda: problem.validate(sample.input),
            "build the CP-SAT model": lambda: problem.build(inp),
            "solver: CP-SAT solve + extract": solve,
            "check one solution (plain Python)": lambda: problem.check(inp, solution),
            "start a search thread and join it": lambda: (
                t := threading.Thread(target=lambda: None),
                t.start(),
                t.join(),
            ),
            "cancel check (Redis EXISTS)": lambda: queueing.cancel_requested(redis, 1),
            "start + finish transactions (lease, result, last points)": start_and_finish,
        }
        results = {name: timed(fn, args.n) for name, fn in parts.items()}
        results["whole solve_run (as an inline run; RQ's own bookkeeping not included)"] = timed(whole_job, args.n)
    print(f"\n{'part':76} {'median ms':>10}")
    for name, ms in results.items():
        print(f"{name:76} {ms:10.3f}")


if __name__ == "__main__":
    main()
