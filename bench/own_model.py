"""The overhead of solving your own CP-SAT model through SolveQueue instead of in-process.

    .venv/bin/python bench/own_model.py                 # tiny model x 20, 30-second model x 1 (~2 min)
    .venv/bin/python bench/own_model.py --quick         # tiny x 3, a 3-second model x 1: checks the script

For each model it measures, with the same CP-SAT threads and time limit:
- in-process: `CpSolver().solve(model)` wall time (what a user's script spends solving);
- SolveQueue: from `Client.submit(model)` to the client seeing the finished run (`Run.wait`, polling
  every 20 ms), through a private stack (bench/stack.py: own redis-server, temp SQLite, gunicorn with the
  Procfile's settings, one real `rq worker`).
The overhead is submit-to-result minus CP-SAT's own wall time inside the run (stats.solver_wall_time);
it is split into the submission (HTTP + validation + insert + enqueue), the wait in the queue
(created -> started), the worker's time beyond the solve (work horse fork, rebuilding the model,
checking the newest solution with CP-SAT once per progress interval and at the end, storing) and the
rest (noticing the end: the 20 ms poll). The tiny model is OR-Tools' job-shop sample (3 jobs,
proved optimal in milliseconds); the long one a 50 x 20 job-shop that uses its whole time limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "client")]

import solvequeue  # noqa: E402
from ortools.sat.python import cp_model  # noqa: E402

from app.problems.cpsat_model import demo  # noqa: E402
from app.problems.cpsat_model import proto as protos  # noqa: E402
from bench.stack import Stack  # noqa: E402

POLL = 0.02


def tiny_model() -> cp_model.CpModel:
    """OR-Tools' minimal job-shop sample (optimal makespan 11)."""
    jobs = [[(0, 3), (1, 2), (2, 2)], [(0, 2), (2, 1), (1, 4)], [(1, 4), (2, 3)]]
    horizon = sum(d for job in jobs for _, d in job)
    model = cp_model.CpModel()
    machines: dict[int, list] = {}
    ends = []
    for j, job in enumerate(jobs):
        previous = None
        for t, (m, d) in enumerate(job):
            start, end = model.new_int_var(0, horizon, f"s{j}{t}"), model.new_int_var(0, horizon, f"e{j}{t}")
            machines.setdefault(m, []).append(model.new_interval_var(start, d, end, f"i{j}{t}"))
            if previous is not None:
                model.add(start >= previous)
            previous = end
        ends.append(previous)
    for intervals in machines.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    return model


def long_model() -> cp_model.CpModel:
    """A 50 x 20 job-shop (2,001 variables): CP-SAT improves it for minutes, so it uses the whole time
    limit (a 30 x 10 one is sometimes proved optimal in seconds)."""
    return protos.to_cp_model(demo.job_shop(50, 20, seed=11).proto)


def in_process(model: cp_model.CpModel, time_limit: float, threads: int) -> float:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds, solver.parameters.num_workers = time_limit, threads
    t0 = time.perf_counter()
    solver.solve(model)
    return time.perf_counter() - t0


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def through_queue(client: solvequeue.Client, model: cp_model.CpModel, time_limit: float, threads: int) -> dict:
    t0 = time.perf_counter()
    run = client.submit(model, time_limit=time_limit, threads=threads)
    submitted = time.perf_counter() - t0
    run.wait(poll=POLL, timeout=time_limit + 120)
    total = time.perf_counter() - t0
    assert run.status == "succeeded", run.doc
    return {
        "total": total,
        "submit": submitted,
        "queued": _seconds(run.doc["created_at"], run.doc["started_at"]),
        "worker": _seconds(run.doc["started_at"], run.doc["finished_at"]),
        "solver": run.doc["stats"]["solver_wall_time"],  # CP-SAT's own wall time inside the run
        "objective": run.objective,
    }


def measure(client, name: str, model: cp_model.CpModel, time_limit: float, threads: int, repeat: int) -> None:
    solo = [in_process(model, time_limit, threads) for _ in range(repeat)]
    runs = [through_queue(client, model, time_limit, threads) for _ in range(repeat)]
    wall = statistics.median(solo)
    med = {k: statistics.median(r[k] for r in runs) for k in ("total", "submit", "queued", "worker", "solver")}
    overhead = [r["total"] - r["solver"] for r in runs]  # (a solve's length varies with the seed: not `wall`)
    print(
        f"\n{name}: {len(model.proto.variables)} variables, time limit {time_limit:g} s, {threads} threads, "
        f"{repeat} run(s); objective {runs[-1]['objective']:g}"
    )
    print(f"  in-process CpSolver.solve      {wall * 1000:9.1f} ms (median)")
    print(f"  SolveQueue submit -> result    {med['total'] * 1000:9.1f} ms (median)")
    print(f"    of which CP-SAT solving      {med['solver'] * 1000:9.1f} ms (median)")
    print(
        f"  overhead                       {statistics.median(overhead) * 1000:9.1f} ms median, "
        f"{max(overhead) * 1000:.1f} ms max"
    )
    print(f"    submission (HTTP, validate)  {med['submit'] * 1000:9.1f} ms")
    print(f"    in the queue                 {med['queued'] * 1000:9.1f} ms")
    print(f"    worker beyond the solve      {(med['worker'] - med['solver']) * 1000:9.1f} ms")
    rest = med["total"] - med["submit"] - med["queued"] - med["worker"]
    print(f"    rest (noticing the end)      {rest * 1000:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny x 3 and a 3-second long model (checks the script)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of the tiny model")
    parser.add_argument("--long-seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    repeat, seconds = (3, 3.0) if args.quick else (args.repeat, args.long_seconds)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (2 cores: want < 1)")
    with Stack(env={"SOLVER_THREADS": str(args.threads)}) as stack:
        url = stack.start_web()
        stack.start_workers(1)
        client = solvequeue.Client(url, token=stack.token)
        client.submit(tiny_model(), time_limit=5).wait(poll=POLL)  # warm: first fork, imports, caches
        measure(client, "tiny (job-shop sample)", tiny_model(), 10.0, args.threads, repeat)
        measure(client, f"{seconds:g}-second (job-shop 50 x 20)", long_model(), seconds, args.threads, 1)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
