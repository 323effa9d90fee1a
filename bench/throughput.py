"""Many small solves: runs/s, per-run overhead and idle latency, next to Celery doing the same solve.

    .venv/bin/pip install -r bench/requirements.txt      # Celery, for the comparison only
    .venv/bin/python bench/throughput.py                  # 400 tiny runs, 2 workers (about a minute)
    .venv/bin/python bench/throughput.py --runs 100 --idle 10 --no-celery

It starts a private stack (bench/stack.py: own redis-server, temp SQLite file or --postgres, gunicorn
with the Procfile's settings, N real `rq worker` processes with SOLVER_THREADS=1) and measures:

- burst: N tiny runs (shift scheduling, demo "tiny": a 3-person week, solved in milliseconds)
  submitted at once over the API; runs/s from the first submit to the last run's end. Once with one
  POST per run (8 client threads), once as POST /runs/batch of --batch runs each (as a sweep would).
- drain: the same, with the workers paused while the runs are submitted: the rate at which they empty
  a full queue, timed from their resumption (the web's work no longer shares the 2 cores with them).
  Once with the runs posted one by one (a job each), once posted in batches (whole aligned blocks of a
  batch's small runs share a job: app/queueing.py, CHUNK_RUNS).
- overhead per run = worker time - solver wall time (CP-SAT's own solve time). A worker that always
  finds the next job waiting is never idle, so the worker time of a run is the time from its worker's
  previous run's end to its own end (dequeue, fork, load, build, solve, check, store, clean-up:
  everything). p50 and p99 over the burst.
- idle latency: one run at a time into an idle stack, submit -> terminal as the API client sees it.
- celery: the same solve (bench/celery_tiny.py) as a Celery task, prefork with as many processes as
  workers, broker and results on the stack's Redis; tasks/s for the same burst size. Then --pairs
  rounds of our draining batches and Celery's burst, a few seconds apart, alternating which goes first:
  the machine's speed drifts 10-20 % from one minute to the next, so the paired ratios (their median
  and range) say more than one figure of each taken a minute apart.
- the same burst and idle latency again with every run forked into a work horse (INLINE_RUNS=0),
  to show what solving small runs in the worker process buys.

Every run is checked afterwards: succeeded, a checked result, at least one progress point.
The machine's load average is printed: take figures with nothing else running.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import col, func, select  # noqa: E402

from app import db  # noqa: E402
from app.models import ProgressPoint, Run  # noqa: E402
from bench.quality import Api  # noqa: E402
from bench.stack import BIN, Stack  # noqa: E402

BODY = {"problem_type": "shift_scheduling", "demo": "tiny", "threads": 1, "time_limit": 10}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def submit_burst(api: Api, n: int, clients: int = 8, batch: int = 0) -> list[int]:
    """`n` runs over the API from `clients` threads: one POST each, or (`batch` > 0) POST /runs/batch
    with up to `batch` runs each."""
    def one(_):
        status, body = api.call("POST", "/api/v1/runs", BODY)
        assert status == 202, (status, body)
        return [body["id"]]

    def many(size):
        status, body = api.call("POST", "/api/v1/runs/batch", {"runs": [BODY] * size})
        assert status == 202, (status, body)
        return [doc["id"] for doc in body["items"]]

    sizes = [min(batch, n - i) for i in range(0, n, batch)] if batch else range(n)
    with ThreadPoolExecutor(clients) as pool:
        return [run_id for ids in pool.map(many if batch else one, sizes) for run_id in ids]


def finished(database_url: str, ids: list[int]) -> list[Run]:
    with db.session(database_url) as s:
        return list(s.exec(select(Run).where(col(Run.id).in_(ids), col(Run.finished_at).is_not(None))))


def finished_count(database_url: str, ids: list[int]) -> int:
    with db.session(database_url) as s:
        query = select(func.count()).where(col(Run.id).in_(ids), col(Run.finished_at).is_not(None))
        return s.exec(query).one()


def wait_all(database_url: str, ids: list[int], timeout: float) -> list[Run]:
    """The runs once all have ended (or at the timeout). While waiting it only counts them: loading every
    finished run's input and result 20 times a second would take CPU from the workers being measured."""
    deadline = time.monotonic() + timeout
    while finished_count(database_url, ids) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return finished(database_url, ids)


def overheads(runs: list[Run]) -> list[float]:
    """Worker time minus solver wall time, per run, from consecutive ends on the same worker process."""
    by_worker: dict[str, list[Run]] = {}
    for r in runs:
        by_worker.setdefault((r.worker or "").split(" pid ")[0], []).append(r)
    out = []
    for rs in by_worker.values():
        rs.sort(key=lambda r: r.finished_at)
        for prev, cur in zip(rs, rs[1:], strict=False):
            busy = (cur.finished_at - prev.finished_at).total_seconds()
            out.append(busy - (cur.stats or {}).get("solver_wall_time", 0.0))
    return out


def verify(database_url: str, runs: list[Run]) -> list[str]:
    problems = []
    ids = [r.id for r in runs]
    with db.session(database_url) as s:
        points = dict(
            s.exec(
                select(ProgressPoint.run_id, func.count())
                .where(col(ProgressPoint.run_id).in_(ids))
                .group_by(ProgressPoint.run_id)
            ).all()
        )
    for r in runs:
        if r.status != "succeeded" or not (r.result or {}).get("checked"):
            problems.append(f"run {r.id}: {r.status} {r.error}")
        elif not points.get(r.id):
            problems.append(f"run {r.id}: no progress points")
    return problems


def burst(stack: Stack, api: Api, n: int, drain: bool = False, batch: int = 0) -> dict:
    """`n` tiny runs submitted at once; runs/s from the first submit to the last end. With `drain` the
    workers are paused (SIGSTOP) while the runs are submitted and timed from their resumption: the rate
    at which the workers empty a full queue, without the web's submissions competing for the 2 cores
    (Celery's tasks are sent straight to Redis by this script, which costs next to nothing)."""
    workers = [p.pid for name, p in stack.children if name.startswith("worker-")]
    if drain:
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
    t0 = time.time()
    try:
        ids = submit_burst(api, n, batch=batch)
    finally:
        if drain:
            t0 = time.time()
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
    runs = wait_all(stack.database_url, ids, timeout=max(60, n))
    if len(runs) < n:
        raise SystemExit(f"only {len(runs)} of {n} runs finished; see {stack.workdir}")
    end = max(r.finished_at.replace(tzinfo=UTC) for r in runs).timestamp()
    walls = [(r.stats or {}).get("solver_wall_time", 0.0) for r in runs]
    over = overheads(runs)
    return {
        "runs": n,
        "seconds": end - t0,
        "rate": n / (end - t0),
        "solver_p50": statistics.median(walls),
        "overhead_p50": percentile(over, 50),
        "overhead_p99": percentile(over, 99),
        "bad": verify(stack.database_url, runs),
    }


def idle_latency(stack: Stack, api: Api, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        status, body = api.call("POST", "/api/v1/runs", BODY)
        assert status == 202, body
        while not api.call("GET", f"/api/v1/runs/{body['id']}")[1].get("terminal"):
            time.sleep(0.002)
        out.append(time.perf_counter() - t)
    return out


def start_celery(stack: Stack, processes: int) -> None:
    """A Celery prefork worker of `processes` processes on the stack's Redis (db 1), warmed by one task."""
    broker = stack.redis_url.rsplit("/", 1)[0] + "/1"
    env = {**stack.env, "CELERY_BROKER_URL": broker}
    log = open(stack.workdir / "celery.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "bench.celery_tiny",
            "worker",
            "--pool",
            "prefork",
            "-c",
            str(processes),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.children.append(("celery", proc))
    os.environ["CELERY_BROKER_URL"] = broker
    from bench import celery_tiny

    celery_tiny.celery.conf.broker_url = celery_tiny.celery.conf.result_backend = broker
    celery_tiny.solve_tiny.delay().get(timeout=60)  # warm: the worker is up and has solved once


def celery_burst(n: int) -> dict:
    """`n` tasks sent at once to the running Celery worker (start_celery); tasks/s to the last result."""
    from bench import celery_tiny

    t0 = time.time()
    results = [celery_tiny.solve_tiny.delay() for _ in range(n)]
    values = [r.get(timeout=120) for r in results]
    seconds = time.time() - t0
    assert all(v["status"] in ("OPTIMAL", "FEASIBLE") for v in values)
    return {
        "runs": n,
        "seconds": seconds,
        "rate": n / seconds,
        "solver_p50": statistics.median(v["wall"] for v in values),
    }


def paired(stack: Stack, api: Api, args) -> list[tuple[float, float]]:
    """`args.pairs` rounds of (our drain of batch-posted runs, Celery's burst) on the same stack, which
    goes first alternating: this machine's speed drifts by 10-20 % from one minute to the next, so each
    ratio compares two bursts a few seconds apart. Returns (ours, Celery's) runs/s per round."""
    def ours() -> float:
        return burst(stack, api, args.runs, drain=True, batch=args.batch)["rate"]

    def theirs() -> float:
        return celery_burst(args.runs)["rate"]

    rounds = []
    for i in range(args.pairs):
        if i % 2 == 0:
            rounds.append((ours(), theirs()))
        else:
            t = theirs()
            rounds.append((ours(), t))
    return rounds


def measure(args, inline: bool, celery: bool) -> tuple[dict, list[float], dict | None]:
    env = {"SOLVER_THREADS": "1", "WEB_CONCURRENCY": "2", "WEB_THREADS": "8", "INLINE_RUNS": "1" if inline else "0"}
    with Stack(env=env, postgres=args.postgres) as stack:
        api = Api(stack.start_web(), stack.auth)
        stack.start_workers(args.workers)
        submit_burst(api, 4)  # warm-up: imports, demo caches, connections
        time.sleep(2)
        ours = burst(stack, api, args.runs)
        ours["batched"] = burst(stack, api, args.runs, batch=args.batch)
        ours["drain"] = burst(stack, api, args.runs, drain=True)
        ours["drain_batched"] = burst(stack, api, args.runs, drain=True, batch=args.batch)
        idle = idle_latency(stack, api, args.idle)
        theirs = None
        if celery:
            start_celery(stack, args.workers)
            theirs = celery_burst(args.runs)
            theirs["pairs"] = paired(stack, api, args)
    return ours, idle, theirs


def report(label: str, args, ours: dict, idle: list[float]) -> None:
    print(
        f"\nSolveQueue, {label}: {ours['runs']} tiny runs, {args.workers} workers x 1 CP-SAT thread "
        f"({'PostgreSQL' if args.postgres else 'SQLite'})"
    )
    seconds = ours["seconds"]
    print(f"  throughput            {ours['rate']:8.1f} runs/s   ({seconds:.2f} s, submitted over HTTP meanwhile)")
    batched = ours["batched"]
    print(
        f"  throughput, batches   {batched['rate']:8.1f} runs/s   ({batched['seconds']:.2f} s, submitted meanwhile "
        f"as POST /runs/batch of {args.batch})"
    )
    drain, drain_batched = ours["drain"], ours["drain_batched"]
    print(
        f"  draining a full queue {drain['rate']:8.1f} runs/s   ({drain['seconds']:.2f} s; overhead p50 / p99 "
        f"{drain['overhead_p50'] * 1000:.1f} / {drain['overhead_p99'] * 1000:.1f} ms; posted one by one)"
    )
    print(
        f"  draining, batches     {drain_batched['rate']:8.1f} runs/s   ({drain_batched['seconds']:.2f} s; overhead "
        f"p50 / p99 {drain_batched['overhead_p50'] * 1000:.1f} / {drain_batched['overhead_p99'] * 1000:.1f} ms; "
        f"posted as POST /runs/batch of {args.batch})"
    )
    print(f"  solver wall p50       {ours['solver_p50'] * 1000:8.1f} ms")
    print(
        f"  overhead p50 / p99    {ours['overhead_p50'] * 1000:8.1f} / {ours['overhead_p99'] * 1000:.1f} ms"
        "   (worker time - solver wall time; target p50 <= 15 ms)"
    )
    print(f"  idle submit->terminal p50 {percentile(idle, 50) * 1000:.1f} ms, p99 {percentile(idle, 99) * 1000:.1f} ms")
    bad = ours["bad"] + batched["bad"] + drain["bad"] + drain_batched["bad"]
    print(f"  every run stored, checked, with progress points: {'yes' if not bad else bad[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle", type=int, default=30, help="runs for the idle latency")
    parser.add_argument("--batch", type=int, default=100, help="runs per POST /runs/batch in the batched burst")
    parser.add_argument("--no-celery", action="store_true")
    parser.add_argument("--pairs", type=int, default=6, help="paired rounds of draining batches against Celery")
    parser.add_argument("--no-fork", action="store_true", help="skip the forking-work-horse comparison")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database on localhost")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (2 cores: want < 1)")
    ours, idle, theirs = measure(args, inline=True, celery=not args.no_celery)
    forked = None if args.no_fork else measure(args, inline=False, celery=False)
    report("small runs solved in the worker process (the default)", args, ours, idle)
    if forked:
        report("every run in a forked work horse (INLINE_RUNS=0)", args, forked[0], forked[1])
    if theirs:
        print(
            f"\nCelery prefork -c {args.workers}: {theirs['rate']:8.1f} tasks/s  ({theirs['seconds']:.2f} s, "
            f"solver wall p50 {theirs['solver_p50'] * 1000:.1f} ms)"
        )
        print(
            f"  ratio SolveQueue / Celery: {ours['rate'] / theirs['rate']:.2f} (one POST per run, meanwhile), "
            f"{ours['batched']['rate'] / theirs['rate']:.2f} (batches of {args.batch}, meanwhile), "
            f"{ours['drain']['rate'] / theirs['rate']:.2f} (draining a full queue), "
            f"{ours['drain_batched']['rate'] / theirs['rate']:.2f} (draining batches)  (target >= 1)"
        )
        if theirs["pairs"]:
            ratios = [o / t for o, t in theirs["pairs"]]
            rounds = ", ".join(f"{o:.0f}/{t:.0f}" for o, t in theirs["pairs"])
            print(
                f"  paired, draining batches against Celery, {len(ratios)} rounds a few seconds apart "
                f"(runs/s ours/Celery: {rounds}): ratio median {statistics.median(ratios):.2f}, "
                f"range {min(ratios):.2f}-{max(ratios):.2f}  (target >= 1)"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
