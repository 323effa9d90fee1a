"""Traveling tournaments annealed in-process with and without the no-repeater rule (SE1), against the best known.

    .venv/bin/python bench/ttp_repeaters.py --instances line6,incr6,circ6 --seconds 60

The files in ../shared/benchmarks/sports_league all carry "no repeaters" (SE1, min 1), and the README
there says so. Where the annealer stalls above the best known with the rule and meets it exactly
without, the published value is likely that of the tournament without the rule. Each line runs one
annealing chain (travel.anneal, chains=1) on the wall clock, so run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import problems  # noqa: E402
from app.problems.round_robin import travel  # noqa: E402
from app.problems.round_robin.check import deviations  # noqa: E402
from app.problems.round_robin.search import circle_schedule  # noqa: E402
from bench.robinx import catalogue  # noqa: E402


class Clock:
    """Just enough of a SearchContext for travel.anneal: a deadline, and the best travel reported."""

    def __init__(self, inp, seconds: float):
        self.inp, self.until, self.best, self.when = inp, time.monotonic() + seconds, None, None
        self.started = time.monotonic()

    def stopped(self) -> bool:
        return False

    def remaining(self) -> float:
        return self.until - time.monotonic()

    def report(self, solution: dict) -> bool:
        hard, km = deviations(self.inp, solution["games"])
        assert hard == 0, "the annealer reported a timetable that breaks a hard rule"
        if self.best is None or km < self.best:
            self.best, self.when = km, time.monotonic() - self.started
        return True


def run(inp, seconds: float, seed: int) -> tuple[int | None, float | None]:
    rng = random.Random(seed)
    clock = Clock(inp, seconds)
    travel.anneal(clock, inp, travel.rules(inp), circle_schedule(inp.n, False, rng), rng)
    return clock.best, clock.when


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="line6,incr6,circ6")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    known = catalogue()
    problem = problems.get("round_robin")
    print(f"load average at start: {os.getloadavg()}")
    print(f"{'instance':<10} {'best known':>10} {'with SE1':>9} {'at s':>6} {'without':>8} {'at s':>6}")
    for name in args.instances.split(","):
        path, best, _ = known[name]
        inp = problem.importers["robinx_xml"](path.read_text(encoding="utf-8"))
        loose = inp.model_copy(update={"constraints": [c for c in inp.constraints if c.constraint != "SE1"]})
        runs = [run(inp, args.seconds, args.seed), run(loose, args.seconds, args.seed)]
        cells = [f"{km if km is not None else '-':>9} {at if at is None else round(at, 1):>6}" for km, at in runs]
        print(f"{name:<10} {best:>10.0f} {cells[0]} {cells[1]}", flush=True)
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
