"""ITC2021 instances through the round-robin search in-process (bench/local_context.py), no queue or worker.

    .venv/bin/python bench/robinx_local.py --instances Early_01,Late_02 --seconds 60 [--clock cpu]

Per instance: the lowest total HARD deviation the search reached, feasible or not, the time (on the
chosen clock) to the first feasible timetable, the final objective and its ratio to the best known.
The default clock is "cpu" (this process's CPU seconds / threads): on a machine shared with other work
it stands for the wall clock of a quiet 2-core machine. Meant for quick before/after loops on the
search strategy; the real figures come from bench/robinx.py.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import problems  # noqa: E402
from app.problems.round_robin.check import deviations  # noqa: E402
from bench.local_context import LocalContext  # noqa: E402
from bench.robinx import catalogue, choose  # noqa: E402

search_module = importlib.import_module("app.problems.round_robin.search")  # not the package's `search` function


class HardTracker(logging.Handler):
    """The lowest HARD deviation the search's debug log mentions ("... -> 12 (was 14)", "start ... hard=")."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lowest: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        for pattern in (r"^feas .* -> (\d+) \(was", r"hard=(\d+)"):
            m = re.search(pattern, msg)
            if m:
                value = int(m.group(1))
                self.lowest = value if self.lowest is None else min(self.lowest, value)


def run(name: str, path: Path, best: float, seconds: float, clock: str, seed: int, verbose: bool) -> dict:
    problem = problems.get("round_robin")
    inp = problem.importers["robinx_xml"](path.read_text())
    tracker = HardTracker()
    log = logging.getLogger("app.problems.round_robin")
    log.setLevel(logging.DEBUG)
    log.addHandler(tracker)
    ctx = LocalContext(problem, inp, seconds, threads=2, seed=seed, clock=clock)
    t0 = time.monotonic()
    try:
        status = problem.search(ctx)
    finally:
        log.removeHandler(tracker)
    wall = time.monotonic() - t0
    first = ctx.history[0][0] if ctx.history else None
    objective = ctx.best[1] if ctx.best else None
    hard = 0 if ctx.best else tracker.lowest
    if ctx.best:
        assert deviations(inp, ctx.best[0]["games"])[0] == 0
    return {
        "instance": name.replace("ITC2021_", ""),
        "hard": hard,
        "feasible": ctx.best is not None,
        "first": first,
        "objective": objective,
        "best": best,
        "ratio": (objective / best if best else (1.0 if objective == 0 else float("inf")))
        if objective is not None
        else None,
        "status": status,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clock", default="cpu", choices=("wall", "cpu", "dtime"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--set", action="append", default=[],
        help="NAME=VALUE: a constant of search.py (or MODULE.NAME of another round_robin module, e.g. "
        "itc_anneal.HOT=2), to tune",
    )  # fmt: skip
    args = parser.parse_args()
    for item in args.set:
        key, value = item.split("=", 1)
        module = search_module
        if "." in key:
            name, key = key.rsplit(".", 1)
            module = importlib.import_module(f"app.problems.round_robin.{name}")
        setattr(module, key, type(getattr(module, key))(float(value)))
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(relativeCreated)8.0f %(message)s")
    known = catalogue()
    names = choose(args.instances, "itc", known)
    print(f"settings {args.set}; load average at start: {os.getloadavg()}", flush=True)
    head = ("instance", "hard", "feas", "first_s", "objective", "best", "ratio", "wall")
    widths = (12, 5, 5, 8, 10, 7, 7, 6)
    print(" ".join(f"{h:<{w}}" if k == 0 else f"{h:>{w}}" for k, (h, w) in enumerate(zip(head, widths, strict=True))))
    rows = []
    for name in names:
        path, best, _ = known[name]
        r = run(name, path, best, args.seconds, args.clock, args.seed, args.verbose)
        rows.append(r)
        first = f"{r['first']:.1f}" if r["first"] is not None else "-"
        obj = f"{r['objective']:.0f}" if r["objective"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        hard = r["hard"] if r["hard"] is not None else "?"
        print(
            f"{r['instance']:<12} {hard:>5} {str(r['feasible']):>5} {first:>8} {obj:>10} {r['best']:>7.0f} "
            f"{ratio:>7} {r['wall']:>6.0f}",
            flush=True,
        )
    feasible = sum(r["feasible"] for r in rows)
    print(f"feasible {feasible}/{len(rows)}; load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
