"""Moves a second of the roster annealer's compiled walk (app/problems/shift_scheduling/moves.py), in-process.

    .venv/bin/python bench/walk_speed.py                                        # Instance12, 8, HeldBack8
    .venv/bin/python bench/walk_speed.py --instances 12 --held-back 6 --moves 5000000

Each roster (chosen as in bench/roster_search.py) is built by the strategy's own
construction (construct.construct, 2 CP-SAT workers), then one chain walks from it at a fixed
temperature and hard-break weight: three runs of --moves moves, each from the constructed roster with
its own seed; the best rate of the three is printed, with the load average. Compare code versions on
one machine, one right after the other, with nothing else running.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.problems.shift_scheduling import PROBLEM, anneal, construct  # noqa: E402
from bench.local_context import LocalContext  # noqa: E402
from bench.roster_search import instances  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", default="12,8", help="benchmark instances, e.g. 1-12 or 8,11,12")
    parser.add_argument("--held-back", default="8", help="generated rosters, e.g. 1-8 (bench/roster_generator.py)")
    parser.add_argument("--moves", type=int, default=3_000_000)
    args = parser.parse_args()
    anneal.moves.warm()  # compiled (or loaded from numba's cache) before any timing
    print(f"load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    for name, inp in instances(args):
        start = construct.construct(LocalContext(PROBLEM, inp, budget=120, threads=2))
        if start is None:
            print(f"{name}: no constructed roster", flush=True)
            continue
        tables, rates = anneal.tables(inp), []
        for seed in range(3):
            roster = anneal.Roster(tables, anneal.to_array(inp, {"roster": start}))
            best = anneal.Best(roster.A.copy(), roster.cost)
            anneal.moves.seed(seed)
            began = time.perf_counter()
            roster.walk(args.moves, 2.0, 100.0, best)
            rates.append(args.moves / (time.perf_counter() - began))
        print(f"{name}: {len(inp.staff)} people, {inp.horizon_days} days: {max(rates) / 1e6:.2f} M moves/s "
              f"(best of 3; {min(rates) / 1e6:.2f} the slowest)", flush=True)  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
