"""Fault injection: runs through a private stack while its processes are killed, restarted and cut off.

    .venv/bin/python bench/chaos.py --duration 60 --runs 20             # a short look (SQLite)
    .venv/bin/python bench/chaos.py --postgres --duration 1200 --runs 250   # the figure issue 11 asks for

A private stack (bench/stack.py: own redis-server, gunicorn with the Procfile's settings, N real `rq worker`
processes; a temp SQLite file, or with --postgres a throwaway database on localhost:5432, trust auth;
loopback only). Shift-scheduling runs (demos and benchmark instances, short time limits) are submitted
over HTTP, some are canceled, pages are polled, and every few seconds one fault strikes at random:
SIGKILL or SIGTERM of a work horse; SIGKILL of a worker with its work horse (a lost host); SIGTERM of a
worker (RQ's warm shutdown); a platform restart (SIGTERM to every worker and the web, SIGKILL after a
grace, all started again); a Redis restart that loses every key; a web restart. Killed workers are
started again after a moment, as a platform would. Then the faults stop, and the stack drains.

It prints: runs accepted; lost (accepted, not in the database); stuck (still active after the drain);
doubled (two live work horses solving one run at once, or an older attempt writing after a newer one);
worse than checkpoint (a stored objective above a checkpoint the run had); failed the checker; cancels
lost (answered 200/202, yet the run went on and did not end canceled); 5xx answers; and the recovery
time after a work horse died or was stopped (until the run's next attempt started), as percentiles.
Bounded: faults and submissions stop after --duration seconds (or --runs runs), the drain after --drain.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from app import db, problems  # noqa: E402
from app.launcher import start_bundled_redis  # noqa: E402
from bench.stack import Stack, _kill, _terminate, procfile_command  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "shift_scheduling"
FAULTS = {
    "horse_kill": 3,
    "horse_term": 2,
    "worker_kill": 2,
    "worker_term": 1,
    "platform_restart": 1,
    "redis_restart": 1,
    "web_restart": 1,
}
DOUBLE_GRACE = 3.0  # seconds a replaced work horse may still be alive (exiting) before it counts as doubled


@dataclass
class Tally:
    accepted: dict[int, float] = field(default_factory=dict)  # run id -> submitted at
    cancels: dict[int, tuple[float, int]] = field(default_factory=dict)  # run id -> (answered at, status)
    http_5xx: int = 0
    refused: int = 0  # no answer (the web was restarting)
    events: list[tuple[float, int, int, str]] = field(default_factory=list)  # (at, run, attempt, kind)
    recovery: dict[str, list[float]] = field(default_factory=dict)
    min_checkpoint: dict[int, float] = field(default_factory=dict)
    owners: dict[int, tuple[int, float]] = field(default_factory=dict)  # run -> (horse pid, since)
    replaced: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # run -> [(old pid, replaced at)]
    doubled: set[int] = field(default_factory=set)
    faults: dict[str, int] = field(default_factory=dict)


class Chaos:
    def __init__(self, stack: Stack, args: argparse.Namespace):
        self.stack, self.args, self.rnd = stack, args, random.Random(args.seed)
        self.tally = Tally()
        self.port = 0
        self.workers: dict[str, object] = {}  # name -> Popen
        self.restart_at: dict[str, float] = {}  # worker name -> when to start it again
        self.cancel_at: dict[int, float] = {}
        self.engine = db.get_engine(stack.database_url)
        # Restarts of the web (slow to boot on a busy machine) run in the background, so that the
        # observations (and the recovery times taken from them) go on meanwhile.
        self.background: threading.Thread | None = None
        self.lock = threading.Lock()  # the stack's list of children
        self.inputs = [("demo", d) for d in ("small", "medium")] + [
            ("benchmark_text", (DATA / f"Instance{i}.txt").read_text()) for i in range(1, 6)
        ]

    # --- the stack ----------------------------------------------------------------------------
    def start(self) -> None:
        url = self.stack.start_web()
        self.port = int(url.rsplit(":", 1)[1])
        for i in range(self.args.workers):
            self.start_worker(f"chaos-{i}")

    def start_worker(self, name: str) -> None:
        cmd = procfile_command("worker", self.stack.env)
        cmd[0] = str(Path(sys.executable).parent / cmd[0])
        with self.lock:
            self.workers[name] = self.stack._spawn(name, [*cmd, "--name", f"{name}-{uuid.uuid4().hex[:6]}"])

    def forget(self, proc) -> None:
        with self.lock:
            self.stack.children = [(n, p) for n, p in self.stack.children if p is not proc]

    def start_web(self) -> None:
        try:
            self.stack.start_web(port=self.port, timeout=180)
        except RuntimeError as exc:
            print(f"  the web did not come back: {exc}", flush=True)

    def in_background(self, task, *args) -> None:
        self.background = threading.Thread(target=task, args=args, daemon=True)
        self.background.start()

    def restart_web(self) -> None:
        with self.lock:
            old = next((p for n, p in self.stack.children if n == "web"), None)
        if old is not None:
            _terminate(old, rq_worker=False)
            self.forget(old)
        self.start_web()

    def restart_redis(self) -> None:
        old = next(p for n, p in self.stack.children if n == "redis")
        old.kill()
        old.wait(10)
        self.forget(old)
        port = int(self.stack.redis_url.rsplit(":", 1)[1].split("/")[0])
        proc, _ = start_bundled_redis(self.stack.workdir / "redis", port)  # empty: every key is lost
        self.stack.children.insert(0, ("redis", proc))

    # --- HTTP ---------------------------------------------------------------------------------
    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int | None, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            headers.update(self.stack.auth)
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = conn.getresponse()
            raw = response.read()
        except OSError:
            self.tally.refused += 1
            return None, {}
        finally:
            conn.close()
        if response.status >= 500:
            self.tally.http_5xx += 1
            print(f"  5xx: {method} {path} -> {response.status}", flush=True)
        try:
            return response.status, json.loads(raw) if raw.startswith(b"{") else {}
        except ValueError:
            return response.status, {}

    def submit(self) -> None:
        fmt, data = self.rnd.choice(self.inputs)
        body = {
            "problem_type": "shift_scheduling",
            "time_limit": self.rnd.choice([4, 8, 15]),
            "threads": 1,
            "priority": self.rnd.choice(["high", "default", "default", "low"]),
        }
        body.update({"demo": data} if fmt == "demo" else {"format": fmt, "input": data})
        status, run = self.call("POST", "/api/v1/runs", body)
        if status == 202:
            self.tally.accepted[run["id"]] = time.monotonic()
            if self.rnd.random() < self.args.cancel_share:
                self.cancel_at[run["id"]] = time.monotonic() + self.rnd.uniform(1, 12)

    def cancel_due(self) -> None:
        for run_id, at in list(self.cancel_at.items()):
            if time.monotonic() >= at:
                del self.cancel_at[run_id]
                status, _ = self.call("POST", f"/api/v1/runs/{run_id}/cancel")
                if status in (200, 202):
                    self.tally.cancels[run_id] = (time.time(), status)

    def browse(self, active: list[dict]) -> None:
        for row in self.rnd.sample(active, min(2, len(active))):
            self.call("GET", f"/runs/{row['id']}/status")
            self.call("GET", f"/api/v1/runs/{row['id']}")

    # --- the database's view ------------------------------------------------------------------
    def active(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status, attempt, worker, checkpoint FROM run WHERE status IN ('queued', 'running')")
            ).mappings()
            return [dict(r) for r in rows]

    def observe(self, active: list[dict]) -> None:
        now = time.monotonic()
        by_id = {r["id"]: r for r in active}
        for row in active:
            checkpoint = _json(row["checkpoint"])
            if checkpoint and checkpoint.get("objective") is not None:
                best = self.tally.min_checkpoint.get(row["id"], float("inf"))
                self.tally.min_checkpoint[row["id"]] = min(best, checkpoint["objective"])
            if row["status"] == "running" and row["worker"]:
                self._owner(row["id"], int(row["worker"].rsplit(" pid ", 1)[1]), now)
        for run_id, replaced in self.tally.replaced.items():
            if run_id in by_id and by_id[run_id]["status"] == "running":
                if any(now - at > DOUBLE_GRACE and _alive(pid) for pid, at in replaced):
                    self.tally.doubled.add(run_id)
        for event in list(self.tally.events):
            at, run_id, attempt, kind = event
            row = by_id.get(run_id)
            if row is None or row["attempt"] > attempt:  # resumed (or ended meanwhile: not a resume)
                self.tally.events.remove(event)
                if row is not None and row["status"] == "running":
                    self.tally.recovery.setdefault(kind, []).append(now - at)

    def _owner(self, run_id: int, pid: int, now: float) -> None:
        old = self.tally.owners.get(run_id)
        if old and old[0] != pid:
            self.tally.replaced.setdefault(run_id, []).append((old[0], now))
        if not old or old[0] != pid:
            self.tally.owners[run_id] = (pid, now)

    # --- faults -------------------------------------------------------------------------------
    def strike(self, active: list[dict]) -> None:
        if self.background is not None and self.background.is_alive():
            return  # a restart is still under way
        kind = self.rnd.choices(list(FAULTS), weights=list(FAULTS.values()))[0]
        running = [r for r in active if r["status"] == "running" and r["worker"]]
        if kind.startswith("horse") and not running:
            return
        self.tally.faults[kind] = self.tally.faults.get(kind, 0) + 1
        now = time.monotonic()
        if kind in ("horse_kill", "horse_term"):
            row = self.rnd.choice(running)
            self.tally.events.append((now, row["id"], row["attempt"], "death" if kind == "horse_kill" else "shutdown"))
            _kill(int(row["worker"].rsplit(" pid ", 1)[1]), signal.SIGKILL if kind == "horse_kill" else signal.SIGTERM)
        elif kind in ("worker_kill", "worker_term"):
            name = self.rnd.choice([n for n, p in self.workers.items() if p.poll() is None] or [None])
            if name is None:
                return
            proc = self.workers[name]
            mine = [r for r in running if r["worker"].startswith(name + "-")]
            how = "death" if kind == "worker_kill" else "shutdown"
            self.tally.events += [(now, row["id"], row["attempt"], how) for row in mine]
            _kill(proc.pid, signal.SIGKILL if kind == "worker_kill" else signal.SIGTERM)
            if kind == "worker_kill":  # the whole host: its work horse goes too
                for row in mine:
                    _kill(int(row["worker"].rsplit(" pid ", 1)[1]), signal.SIGKILL)
            self.restart_at[name] = now + self.rnd.uniform(1, 4)
        elif kind == "platform_restart":
            self.in_background(self.platform_restart, running)
        elif kind == "redis_restart":
            self.restart_redis()
        else:
            self.in_background(self.restart_web)
        print(f"  {time.strftime('%H:%M:%S')} {kind} ({len(running)} running)", flush=True)

    def platform_restart(self, running: list[dict]) -> None:
        now = time.monotonic()
        for row in running:
            self.tally.events.append((now, row["id"], row["attempt"], "restart"))
        with self.lock:
            procs = [p for n, p in self.stack.children if n == "web" or n.startswith("chaos-")]
        for proc in procs:
            _kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10  # then SIGKILL, as a platform does after its grace
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        for proc in procs:
            _terminate(proc, rq_worker=False, timeout=0.1)
            self.forget(proc)
        for name in list(self.workers):
            self.start_worker(name)
        self.start_web()

    def restart_dead_workers(self, now: float) -> None:
        # The dead one stays among the stack's children: stopping the stack kills what it left behind
        # (RQ's scheduler process survives a SIGKILLed worker).
        if self.background is not None and self.background.is_alive():
            return  # a platform restart starts them itself
        for name, proc in list(self.workers.items()):
            if proc.poll() is not None and now >= self.restart_at.get(name, 0):
                self.start_worker(name)

    # --- the whole run ------------------------------------------------------------------------
    def run(self) -> None:
        self.start()
        t0 = time.monotonic()
        next_fault = t0 + self.rnd.uniform(3, 2 * self.args.fault_every)
        last_observed = 0.0
        while time.monotonic() - t0 < self.args.duration:
            now = time.monotonic()
            active = self.active() if now - last_observed >= 0.5 else None
            if active is not None:
                last_observed = now
                self.observe(active)
                if len(active) < self.args.workers + 2 and len(self.tally.accepted) < self.args.runs:
                    self.submit()
                self.browse(active)
                if now >= next_fault:
                    self.strike(active)
                    next_fault = now + self.rnd.uniform(0.5, 1.5) * self.args.fault_every
            self.cancel_due()
            self.restart_dead_workers(now)
            if len(self.tally.accepted) >= self.args.runs and not self.cancel_at and not active:
                break
            time.sleep(0.1)
        print(f"faults stop after {time.monotonic() - t0:.0f} s; draining", flush=True)
        if self.background is not None:
            self.background.join()
        self.restart_at.clear()
        self.restart_dead_workers(time.monotonic())
        deadline = time.monotonic() + self.args.drain
        while (active := self.active()) and time.monotonic() < deadline:
            self.observe(active)
            self.restart_dead_workers(time.monotonic())
            time.sleep(0.5)


def report(chaos: Chaos) -> int:
    tally, engine = chaos.tally, chaos.engine
    with engine.connect() as conn:
        rows = {
            r["id"]: dict(r)
            for r in conn.execute(
                text("SELECT id, status, objective, input, result, finished_at, attempt, lost, error FROM run")
            ).mappings()
        }
        points = conn.execute(text("SELECT run_id, attempt FROM progress_point ORDER BY id")).all()
    lost = [i for i in tally.accepted if i not in rows]
    stuck = [i for i, r in rows.items() if r["status"] in ("queued", "running")]
    newest: dict[int, int] = {}
    for run_id, attempt in points:  # an older attempt writing after a newer one: two writers at once
        if attempt < newest.get(run_id, 0):
            tally.doubled.add(run_id)
        newest[run_id] = max(attempt, newest.get(run_id, 0))
    worse = [
        i
        for i, r in rows.items()
        if r["objective"] is not None and r["objective"] > tally.min_checkpoint.get(i, float("inf")) + 1e-9
    ]
    problem = problems.get("shift_scheduling")
    unchecked = [
        i
        for i, r in rows.items()
        if _json(r["result"])
        and not problem.check(problem.validate(_json(r["input"])), _json(r["result"])["solution"]).ok
    ]
    cancels_lost = [
        i
        for i, (at, _) in tally.cancels.items()
        if i in rows and rows[i]["status"] != "canceled" and _epoch(rows[i]["finished_at"]) > at + 2.0
    ]
    statuses: dict[str, int] = {}
    for r in rows.values():
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print(f"\nruns accepted {len(tally.accepted)}, by status {statuses}; faults {tally.faults}")
    attempts, losses = sum(r["attempt"] for r in rows.values()), sum(r["lost"] for r in rows.values())
    print(f"attempts {attempts}, losses counted {losses}")
    errors: dict[str, int] = {}
    for r in rows.values():
        if r["status"] == "failed":
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    for error, count in errors.items():
        print(f"  failed {count}x: {error}")
    figures = {
        "lost": len(lost),
        "stuck": len(stuck),
        "doubled": len(tally.doubled),
        "worse than checkpoint": len(worse),
        "failed the checker": len(unchecked),
        "cancels lost": len(cancels_lost),
        "5xx": tally.http_5xx,
    }
    for name, value in figures.items():
        ids = {
            "lost": lost,
            "stuck": stuck,
            "doubled": sorted(tally.doubled),
            "worse than checkpoint": worse,
            "failed the checker": unchecked,
            "cancels lost": cancels_lost,
        }.get(name, [])
        print(f"  {name:<22} {value}" + (f"  (runs {ids[:10]})" if ids else ""))
    print(f"  {'cancels answered':<22} {len(tally.cancels)}; requests refused while the web restarted: {tally.refused}")
    for kind, times in sorted(tally.recovery.items()):
        q = statistics.quantiles(times, n=10, method="inclusive") if len(times) > 1 else times * 9
        print(
            f"  recovery after {kind:<9} n={len(times):<4} p50 {statistics.median(times):5.1f} s  "
            f"p90 {q[8]:5.1f} s  max {max(times):5.1f} s"
        )
    print(f"load average (1/5/15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0 if not any(figures.values()) else 1


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _epoch(moment: datetime | str | None) -> float:
    """A finished_at as read with plain SQL (SQLite: naive UTC text; PostgreSQL: aware) -> Unix time."""
    if moment is None:
        return 0.0
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of faults and submissions (600)")
    parser.add_argument("--runs", type=int, default=250, help="runs to submit at most (250)")
    parser.add_argument("--workers", type=int, default=3, help="rq worker processes (3)")
    parser.add_argument("--fault-every", type=float, default=6, help="mean seconds between faults (6)")
    parser.add_argument("--cancel-share", type=float, default=0.15, help="share of runs canceled (0.15)")
    parser.add_argument("--drain", type=float, default=240, help="seconds to wait for the last runs (240)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway database on localhost:5432")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    env = {"SOLVER_THREADS": "1", "PROGRESS_INTERVAL": "0.5", "WEB_CONCURRENCY": "2", "WEB_THREADS": "4"}
    with Stack(env=env, postgres=args.postgres) as stack:
        chaos = Chaos(stack, args)
        print(
            f"{time.strftime('%Y-%m-%d %H:%M')}  chaos: {args.workers} workers, "
            f"{'PostgreSQL' if args.postgres else 'SQLite'}, up to {args.runs} runs / {args.duration:g} s, "
            f"a fault every ~{args.fault_every:g} s, {os.cpu_count()} CPUs",
            flush=True,
        )
        chaos.run()
        return report(chaos)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started is stopped")
