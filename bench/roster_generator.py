"""Held-back rosters: larger seeded problems with the Employee Shift Scheduling Benchmark's rule mix.

    .venv/bin/python bench/roster_generator.py 3 > /tmp/HeldBack3.json    # one of them, as JSON

They are never used to choose the search's settings, only to check that the method holds up on rosters
it was not tuned on (bigger, more shift kinds, longer horizons). Like the benchmark: shift kinds
E/D/L/N/... where a later shift may not be followed by an earlier one the next day; staff with
per-kind limits (some kinds never), a band of total minutes, 5-6 days in a row at most, stretches of
at least 1-2 days and breaks of 1-3, 1-3 weekends, two or so fixed days off; weighted on/off requests;
cover needs per day and shift with 100 per person short and 1 per person too many.
Feasible by construction: each person's limits are drawn around a witness roster that obeys them.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from typing import Any

from app.problems.shift_scheduling.schema import Input, validate

# (staff, days, shift kinds) of each held-back roster; all bigger than the benchmark's Instance1-12.
# 7 and 8 are long plans (12 and 26 weeks), where finding any roster at all is the hard part.
SIZES = {1: (60, 28, 4), 2: (80, 42, 4), 3: (100, 28, 6), 4: (120, 56, 4), 5: (150, 28, 8), 6: (180, 56, 5),
         7: (40, 84, 5), 8: (50, 182, 6)}  # fmt: skip
LETTERS = "EDLNABCFGHIJ"


def generate(number: int, seed: int = 0) -> Input:
    """Held-back roster `number` (1-8): the same (number, seed) always gives the same problem."""
    staff_count, days, kinds = SIZES[number]
    rng = random.Random(f"held-back-{number}-{seed}")
    shifts = [
        {"id": LETTERS[k], "length_minutes": rng.choice([480, 480, 540, 600]), "cannot_follow": list(LETTERS[:k])}
        for k in range(kinds)
    ]
    staff, rows = [], []
    for i in range(staff_count):
        person, row = _person(rng, f"S{i}", shifts, days)
        staff.append(person)
        rows.append(row)
    heads = Counter((d, s) for row in rows for d, s in enumerate(row) if s)
    cover = [
        {"day": d, "shift": shift["id"], "requirement": max(0, heads[d, shift["id"]] + rng.choice([-1, 0, 0, 1, 1, 2])),
         "weight_under": 100, "weight_over": 1}
        for d in range(days)
        for shift in shifts
    ]  # fmt: skip
    on, off = [], []
    for person in staff:
        on += [_request(rng, person["id"], days, shifts) for _ in range(rng.randint(0, days // 6))]
        off += [_request(rng, person["id"], days, shifts) for _ in range(rng.randint(0, days // 10))]
    payload = {"horizon_days": days, "shifts": shifts, "staff": staff, "cover": cover}
    return validate({**payload, "shift_on_requests": _unique(on), "shift_off_requests": _unique(off)})


def _person(rng: random.Random, name: str, shifts: list[dict], days: int) -> tuple[dict, list]:
    max_run, min_run, min_off = rng.choice([5, 5, 6]), rng.choice([1, 2, 2]), rng.choice([1, 2, 2, 3])
    can_do = [s["id"] for s in shifts if rng.random() < 0.6] or [rng.choice(shifts)["id"]]
    row = _witness(rng, days, sorted(can_do, key=LETTERS.index), max_run, min_run, min_off)
    length = {s["id"]: s["length_minutes"] for s in shifts}
    minutes = sum(length[s] for s in row if s)
    counts = Counter(s for s in row if s)
    weekends = sum(any(row[d] for d in (sat, sat + 1) if d < days) for sat in range(5, days, 7))
    off_days = [d for d, s in enumerate(row) if s is None]
    person = {
        "id": name,
        "max_shifts": {s["id"]: (days if rng.random() < 0.5 else counts[s["id"]] + rng.randint(0, 3))
                       if s["id"] in can_do else 0 for s in shifts},
        "max_total_minutes": minutes + rng.randint(0, 2) * 480,
        "min_total_minutes": max(0, minutes - rng.randint(1, 3) * 480),
        "max_consecutive_shifts": max_run,
        "min_consecutive_shifts": min_run,
        "min_consecutive_days_off": min_off,
        "max_weekends": weekends + rng.choice([0, 1]),
        "days_off": sorted(rng.sample(off_days, min(len(off_days), rng.randint(1, 1 + days // 14)))),
    }  # fmt: skip
    return person, row


def _witness(rng: random.Random, days: int, can_do: list[str], max_run: int, min_run: int, min_off: int) -> list:
    """Stretches of work (shift kinds never going back to an earlier one) and rest, within the limits."""
    row: list[str | None] = []
    working = rng.random() < 0.6
    while len(row) < days:
        if working:
            length = rng.randint(max(min_run, 2), max_run)
            row += sorted((rng.choice(can_do) for _ in range(length)), key=LETTERS.index)
        else:
            row += [None] * rng.randint(min_off, min_off + 2)
        working = not working
    return row[:days]


def _request(rng: random.Random, who: str, days: int, shifts: list[dict]) -> dict[str, Any]:
    return {"staff": who, "day": rng.randrange(days), "shift": rng.choice(shifts)["id"], "weight": rng.randint(1, 3)}


def _unique(requests: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in requests:
        if (r["staff"], r["day"], r["shift"]) not in seen:
            seen.add((r["staff"], r["day"], r["shift"]))
            out.append(r)
    return out


if __name__ == "__main__":
    print(json.dumps(generate(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0).model_dump()))
