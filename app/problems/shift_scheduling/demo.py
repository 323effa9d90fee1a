"""Seeded demo rosters: the same (size, seed) always gives the same problem, and it is always feasible.

Feasibility by construction: for each person we first draw a "witness" roster that obeys their
stretch rules, then derive their limits (minutes, weekends, shift counts, days off) so that this
roster satisfies them. Hard rules are all per person, so the witnesses together are a valid roster.
Cover needs are the witnesses' head-counts plus noise, so the best roster is not simply the witness.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from app.problems.shift_scheduling.schema import Input, validate

NAMES = [
    "Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam",
    "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wim", "Xenia",
    "Yusuf", "Zoe", "Amir", "Bea", "Carlos", "Dana", "Elif", "Finn", "Gita", "Hana", "Ivan", "Jade",
    "Kofi", "Lena", "Marco", "Nina", "Oscar", "Priya", "Rafael", "Sara", "Tom", "Uma", "Victor", "Wendy",
    "Yara", "Zack", "Alma", "Bruno", "Carmen", "Dmitri", "Eva", "Felix", "Greta", "Henrik", "Ida", "Jorge",
]  # fmt: skip

# Early, Late, Night. A late may not be followed by an early; a night by an early or a late.
SHIFTS: list[dict[str, Any]] = [
    {"id": "E", "length_minutes": 480, "cannot_follow": []},
    {"id": "L", "length_minutes": 480, "cannot_follow": ["E"]},
    {"id": "N", "length_minutes": 600, "cannot_follow": ["E", "L"]},
]


@dataclass(frozen=True)
class Size:
    staff: int
    days: int
    shifts: int


SIZES = {"tiny": Size(3, 7, 1), "small": Size(6, 14, 2), "medium": Size(20, 28, 3), "large": Size(40, 42, 3)}


def demo(size: str = "small", seed: int = 0) -> Input:
    """A feasible demo problem of the given size ('small', 'medium' or 'large')."""
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; known: {', '.join(SIZES)}")
    dims, rng = SIZES[size], random.Random(f"{size}-{seed}")
    shifts = SHIFTS[: dims.shifts]
    shift_ids = [shift["id"] for shift in shifts]
    names = rng.sample(NAMES, dims.staff)
    staff, rosters = [], {}
    for name in names:
        person, row = _person(rng, name, shifts, dims.days)
        staff.append(person)
        rosters[name] = row
    heads = Counter((day, shift) for row in rosters.values() for day, shift in enumerate(row) if shift)
    # Needs near what the witnesses supply, a little above or below, so cover is not free.
    cover = [
        {"day": day, "shift": shift, "requirement": max(0, heads[day, shift] + rng.choice([-1, 0, 0, 1, 1]))}
        for day in range(dims.days)
        for shift in shift_ids
    ]
    on, off = [], []
    for name in names:
        on += [_request(rng, name, dims.days, shift_ids) for _ in range(rng.randint(dims.days // 7, dims.days // 4))]
        off += [_request(rng, name, dims.days, shift_ids) for _ in range(rng.randint(1, dims.days // 7 + 1))]
    payload = {"horizon_days": dims.days, "shifts": shifts, "staff": staff, "cover": cover}
    return validate({**payload, "shift_on_requests": on, "shift_off_requests": off})


def _request(rng: random.Random, name: str, days: int, shift_ids: list[str]) -> dict[str, Any]:
    return {"staff": name, "day": rng.randrange(days), "shift": rng.choice(shift_ids), "weight": rng.randint(1, 3)}


def _person(rng: random.Random, name: str, shifts: list[dict[str, Any]], days: int) -> tuple[dict, list]:
    """One person's limits, and a roster (shift id or None per day) that obeys them."""
    max_run, min_run, min_off = rng.choice([5, 5, 6]), rng.choice([1, 2, 2]), rng.choice([1, 2, 2])
    can_do = [s["id"] for s in shifts]
    if len(can_do) > 2 and rng.random() < 0.4:  # some people never work one kind of shift
        can_do.remove(rng.choice(can_do))
    row = _witness(rng, days, can_do, max_run, min_run, min_off, part_time=rng.random() < 0.25)
    length = {s["id"]: s["length_minutes"] for s in shifts}
    minutes = sum(length[s] for s in row if s)
    counts = Counter(s for s in row if s)
    worked_weekends = sum(any(row[d] for d in (sat, sat + 1) if d < days) for sat in range(5, days, 7))
    off_days = [d for d, s in enumerate(row) if s is None]
    person = {
        "id": name,
        "max_shifts": {s["id"]: counts[s["id"]] + rng.randint(1, 4) if s["id"] in can_do else 0 for s in shifts},
        "max_total_minutes": minutes + rng.randint(0, 2) * 480,
        "min_total_minutes": max(0, minutes - rng.randint(0, 2) * 480),
        "max_consecutive_shifts": max_run,
        "min_consecutive_shifts": min_run,
        "min_consecutive_days_off": min_off,
        "max_weekends": worked_weekends + rng.choice([0, 0, 1]),
        "days_off": sorted(rng.sample(off_days, min(len(off_days), rng.randint(1, 1 + days // 14)))),
    }
    return person, row


def _witness(
    rng: random.Random, days: int, can_do: list[str], max_run: int, min_run: int, min_off: int, part_time: bool
) -> list[str | None]:
    """Alternating stretches of work (one kind of shift each) and rest that respect the stretch limits."""
    row: list[str | None] = []
    working = rng.random() < 0.6
    while len(row) < days:
        if working:
            row += [rng.choice(can_do)] * rng.randint(min_run, max_run - (2 if part_time else 0))
        else:
            row += [None] * rng.randint(min_off, min_off + (3 if part_time else 1))
        working = not working
    return row[:days]
