"""The roster search strategy measured in-process (no queue, no worker), on the benchmark or a held-back set.

    .venv/bin/python bench/roster_search.py --instances 8,11,12 --budget 20 --clock dtime
    .venv/bin/python bench/roster_search.py --held-back 1-8 --budget 60            # generated rosters
    .venv/bin/python bench/roster_search.py --instances 12 --set sub_dtime=1.0      # a variant
    .venv/bin/python bench/roster_search.py --strategy plain --instances 12        # one CP-SAT solve

For comparing variants on a busy machine use `--clock dtime`: the budget is CP-SAT deterministic time,
neighbourhood solves use one worker and fixed seeds, so a run does the same work whatever the load.
Held-back rosters (bench/roster_generator.py) have no published best: their gap is to the best
objective any run in bench/results/held_back_best.csv has found (updated by each run), so it measures
a method against the others, not against an optimum. Rows are appended to bench/results/roster_search_history.csv.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
import time
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.problems.shift_scheduling import PROBLEM, construct, decompose, import_text  # noqa: E402
from app.problems.shift_scheduling.search import Settings, search  # noqa: E402
from bench.local_context import LocalContext  # noqa: E402
from bench.quality import DATA, RESULTS, parse_instances  # noqa: E402
from bench.roster_generator import generate  # noqa: E402

HELD_BACK_BEST = RESULTS / "held_back_best.csv"


def plain(ctx: LocalContext) -> str | None:
    """The baseline: one whole-model CP-SAT solve for the whole budget."""
    model, v = PROBLEM.build(ctx.inp)
    sub = ctx.solve(model, lambda value: PROBLEM.extract(ctx.inp, v, value), time_limit=ctx.remaining())
    return "OPTIMAL" if sub.status == "OPTIMAL" else None


def run_strategy(name: str, ctx: LocalContext, settings: Settings) -> str | None:
    if name == "lns":
        return search(ctx, settings)
    if name == "decompose":
        return decompose.search(ctx)
    if name == "construct":
        return construct.search(ctx)
    return plain(ctx)


def settings_from(pairs: list[str]) -> Settings:
    types = {f.name: f.type for f in fields(Settings)}
    changes = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        changes[key] = int(value) if types[key] in ("int", int) else float(value)
    return replace(Settings(), **changes)


def load_best(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    with open(path) as f:
        return {r["instance"]: float(r["best_known"]) for r in csv.DictReader(f)}


def instances(args: argparse.Namespace) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if args.instances:
        out += [(name, import_text((DATA / f"{name}.txt").read_text())) for name in parse_instances(args.instances)]
    if args.held_back:
        lo, _, hi = args.held_back.partition("-")
        out += [(f"HeldBack{i}", generate(i)) for i in range(int(lo), int(hi or lo) + 1)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="", help="benchmark instances, e.g. 1-12 or 8,11,12")
    parser.add_argument("--held-back", default="", help="generated rosters, e.g. 1-8 (bench/roster_generator.py)")
    parser.add_argument("--budget", type=float, default=60, help="seconds of the clock per instance (default 60)")
    parser.add_argument("--clock", choices=["wall", "dtime", "cpu"], default="wall")
    parser.add_argument("--threads", type=int, default=2, help="CP-SAT workers of whole-model solves (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategy", choices=["lns", "plain", "decompose", "construct"], default="lns")
    parser.add_argument("--set", nargs="*", default=[], help="Settings overrides, e.g. sub_dtime=1.0 stall=20")
    parser.add_argument("--label", default="", help="a name for this variant in the CSV")
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))
    settings = settings_from(args.set)
    best = load_best(DATA / "best_known.csv") | load_best(HELD_BACK_BEST)
    held_best = load_best(HELD_BACK_BEST)
    rows = []
    print(
        f"{'instance':<11} {'best':>6} {'ours':>6} {'gap %':>7} {'first s':>7} {'to best s':>9} {'solves':>6}  status"
    )
    for name, inp in instances(args):
        ctx = LocalContext(PROBLEM, inp, budget=args.budget, threads=args.threads, seed=args.seed, clock=args.clock)
        status = run_strategy(args.strategy, ctx, settings) or "FEASIBLE"
        ours = ctx.best[1] if ctx.best else None
        if name.startswith("HeldBack") and ours is not None and ours < held_best.get(name, float("inf")):
            held_best[name] = ours
        ref = best.get(name) or ours
        row = {
            "when": f"{datetime.now():%Y-%m-%d %H:%M:%S}",
            "label": args.label or args.strategy,
            "settings": " ".join(args.set),
            "clock": args.clock,
            "budget": args.budget,
            "seed": args.seed,
            "instance": name,
            "best_known": ref,
            "ours": ours,
            "gap_pct": None if ours is None or not ref else round(100 * (ours - ref) / ref, 2),
            "first_feasible": round(ctx.history[0][0], 2) if ctx.history else None,
            "time_to_best": round(ctx.history[-1][0], 2) if ctx.history else None,
            "solves": ctx.solves,
            "status": status,
            "load": f"{os.getloadavg()[0]:.1f}",
        }
        rows.append(row)
        save([row], held_best)  # row by row: a run cut short keeps what it measured
        gap, first, to_best = (row[k] or 0 for k in ("gap_pct", "first_feasible", "time_to_best"))
        print(
            f"{name:<11} {ref or 0:>6.0f} {ours or 0:>6.0f} {gap:>7.2f} {first:>7.2f} {to_best:>9.2f} "
            f"{ctx.solves:>6}  {status}",
            flush=True,
        )
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    if gaps:
        print(
            f"mean gap {sum(gaps) / len(gaps):.2f} % (max {max(gaps):.2f} %) over {len(gaps)}; "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
    return 0


def save(rows: list[dict], held_best: dict[str, float]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "roster_search_history.csv"
    new = not out.exists()
    with open(out, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            writer.writeheader()
        writer.writerows(rows)
    with open(HELD_BACK_BEST, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")  # as bench/quality.py writes it
        writer.writerow(["instance", "best_known"])
        writer.writerows(sorted(held_best.items()))


if __name__ == "__main__":
    t0 = time.monotonic()
    code = main()
    print(f"({time.monotonic() - t0:.0f} s)")
    sys.exit(code)
