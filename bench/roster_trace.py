"""Where a roster run's gains come from: every better roster of one in-process run, with its time, cost,
people short, the phase of the strategy and who found it (CP-SAT or an annealing chain).

    .venv/bin/python bench/roster_trace.py Instance8                 # 60 s, seed 0
    .venv/bin/python bench/roster_trace.py HeldBack5 --seed 2 --budget 120 --all

The strategy is the roster type's default (construct.search), driven by bench/local_context.py as in
bench/roster_search.py, with the worker's preparation (the compiled walks) done first. Phases are the
strategy's own lines for the run's log (SearchContext.log); "people short" is the cover shortfall in people
(cover_under's cost over its weight), which on the benchmark decides which basin a run ends in. Without
--all, a run of gains inside one phase is thinned to about a dozen lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.problems.shift_scheduling import PROBLEM, construct, import_text  # noqa: E402
from app.problems.shift_scheduling.check import check  # noqa: E402
from bench.local_context import LocalContext  # noqa: E402
from bench.quality import DATA  # noqa: E402
from bench.roster_generator import generate  # noqa: E402


class Traced(LocalContext):
    """A LocalContext that also notes, for each roster it keeps, the phase and who found it."""

    phase = "start"  # from the strategy's last log line that starts a phase
    trace: list[tuple[float, float, dict, str, str]]  # (clock, cost, roster, phase, found by)

    def __post_init__(self) -> None:
        self.trace = []
        super().__post_init__()

    def log(self, message: str) -> None:
        super().log(message)
        if "gives way" not in message:
            self.phase = message.removeprefix("[roster search: ").split(",")[0].rstrip("]")

    def report(self, solution: dict, solver_objective: float | None = None) -> bool:
        kept = super().report(solution, solver_objective)
        if kept:
            thread = threading.current_thread()
            if isinstance(thread, threading._DummyThread):
                finder = "CP-SAT"  # a solution callback, from one of CP-SAT's threads
            else:
                finder = "itself" if self.phase == "construction" else f"walk ({thread.name})"
            self.trace.append((self.now(), self.best[1], solution, self.phase, finder))
        return kept


def people_short(inp, solution: dict) -> int:
    """The roster's cover shortfall in people (after the run: the checker's time stays out of the trace)."""
    weight = {(c.day, c.shift): max(1, c.weight_under) for c in inp.cover}
    return sum(p.cost // weight[p.day, p.shift] for p in check(inp, solution).penalties if p.rule == "cover_under")


def load(name: str):
    if name.startswith("HeldBack"):
        return generate(int(name.removeprefix("HeldBack")))
    return import_text((DATA / f"{name}.txt").read_text())


def thin(trace: list, per_phase: int = 12) -> list:
    """Each phase's first and last gains and about `per_phase` in between."""
    out = []
    for phase in dict.fromkeys(row[3] for row in trace):
        rows = [row for row in trace if row[3] == phase]
        step = max(1, len(rows) // per_phase)
        picked = {id(row): row for row in rows[::step] + rows[-1:]}
        out += sorted(picked.values(), key=lambda row: row[0])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instance", help="Instance1-12 (the benchmark) or HeldBack1-8 (bench/roster_generator.py)")
    parser.add_argument("--budget", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--threads", type=int, default=2, help="CP-SAT workers and annealing chains (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="every better roster, not a thinned list")
    args = parser.parse_args()
    inp = load(args.instance)
    PROBLEM.prepare()  # as a worker does when it starts: the walks compiled (or loaded from disk) first
    ctx = Traced(PROBLEM, inp, budget=args.budget, threads=args.threads, seed=args.seed)
    status = construct.search(ctx) or "FEASIBLE"
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.instance}, seed {args.seed}, {args.budget:.0f} s, {args.threads} threads: {ctx.best[1]:.0f} "
          f"({status}); load average {load_avg}")  # fmt: skip
    print("\nphases:")
    for at, message in ctx.lines:
        print(f"  {at:6.1f} s  {message}")
    print(f"\n{'s':>6} {'cost':>8} {'short':>5}  phase / found by")
    for at, cost, roster, phase, finder in ctx.trace if args.all else thin(ctx.trace):
        print(f"{at:6.1f} {cost:8.0f} {people_short(inp, roster):5d}  {phase} / {finder}")
    return 0


if __name__ == "__main__":
    t0 = time.monotonic()
    code = main()
    print(f"({time.monotonic() - t0:.0f} s)")
    sys.exit(code)
