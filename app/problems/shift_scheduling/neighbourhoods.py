"""Which part of a roster a large-neighbourhood search frees, and how big that part is.

A neighbourhood is a set of (person, day) cells whose shifts the sub-solve may change; every other
cell keeps the incumbent's shift. The kinds follow how rosters improve by hand: rework a few days
for everyone (cover), rework a few people for the whole plan (their stretches, weekends and minutes),
a block of both, or the people and days around a penalty the incumbent pays.
Each kind has its own size, a fraction of all cells, adapted to the sub-solves' outcome: a
sub-problem solved to optimality grows the next one, one that runs out of time shrinks it, so the
sub-solves stay just small enough to finish (as CP-SAT's own LNS does).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from app.problems.shift_scheduling.schema import Input

Cells = set[tuple[int, int]]  # (person, day)
Roster = list[list[int | None]]  # person -> day -> shift index or None (off)

MIN_FRACTION, MAX_FRACTION = 0.02, 0.9


def free_days(inp: Input, rng: random.Random, fraction: float, roster: Roster) -> Cells:
    """Everyone, over a window of consecutive days."""
    people, days = len(inp.staff), inp.horizon_days
    width = _clamp(round(fraction * days), 1, days)
    start = rng.randrange(days - width + 1)
    return {(p, d) for p in range(people) for d in range(start, start + width)}


def free_staff(inp: Input, rng: random.Random, fraction: float, roster: Roster) -> Cells:
    """A few people, over the whole plan."""
    people, days = len(inp.staff), inp.horizon_days
    count = _clamp(round(fraction * people), 2, people)
    return {(p, d) for p in rng.sample(range(people), count) for d in range(days)}


def free_block(inp: Input, rng: random.Random, fraction: float, roster: Roster) -> Cells:
    """A group of people over a window of days, as wide as the size allows."""
    people, days = len(inp.staff), inp.horizon_days
    cells = max(2, fraction * people * days)
    width = _clamp(rng.randint(7, 14) if days > 14 else days, 1, days)
    count = _clamp(math.ceil(cells / width), 2, people)
    start = rng.randrange(days - width + 1)
    return {(p, d) for p in rng.sample(range(people), count) for d in range(start, start + width)}


def free_around_penalty(inp: Input, rng: random.Random, fraction: float, roster: Roster) -> Cells:
    """The people who could fix a penalty the incumbent pays (a short shift, a refused request), near its day."""
    people, days = len(inp.staff), inp.horizon_days
    day, who = _pick_penalty(inp, rng, roster)
    width = _clamp(rng.randint(3, 7), 1, days)
    start = _clamp(day - rng.randrange(width), 0, days - width)
    count = _clamp(math.ceil(max(2, fraction * people * days) / width), 2, people)
    chosen = set(rng.sample(range(people), count))
    if who is not None:
        chosen.add(who)
    return {(p, d) for p in chosen for d in range(start, start + width)}


def two_weekends(inp: Input, pair: tuple[int, int], margin: int = 2) -> Cells:
    """Everyone, over two weekends (indices into inp.weekends()) and `margin` days either side of each.

    A weekend limit couples a person's weekends: someone at their limit can take another weekend only by
    giving one up. Where cover is short at weekends (staff at their limits, the shortfall all on
    Saturdays and Sundays, as on the benchmark's largest rosters), freeing two weekends for everyone lets
    the sub-solve trade weekends between people, with the days around them to rebuild their stretches."""
    weekends = inp.weekends()
    days = {d for w in pair for d in range(weekends[w][0] - margin, weekends[w][-1] + margin + 1)}
    return {(p, d) for p in range(len(inp.staff)) for d in days if 0 <= d < inp.horizon_days}


def _pick_penalty(inp: Input, rng: random.Random, roster: Roster) -> tuple[int, int | None]:
    """(day, person or None) of a random penalty the roster pays; a random day if it pays none."""
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    staff = {person.id: p for p, person in enumerate(inp.staff)}
    on_shift: dict[tuple[int, int], int] = {}
    for row in roster:
        for d, s in enumerate(row):
            if s is not None:
                on_shift[d, s] = on_shift.get((d, s), 0) + 1
    found: list[tuple[int, int | None]] = [
        (c.day, None)
        for c in inp.cover
        if on_shift.get((c.day, index[c.shift]), 0) != c.requirement and (c.weight_under or c.weight_over)
    ]
    found += [
        (r.day, staff[r.staff])
        for r in inp.shift_on_requests
        if r.weight > 0 and roster[staff[r.staff]][r.day] != index[r.shift]
    ]
    found += [
        (r.day, staff[r.staff])
        for r in inp.shift_off_requests
        if r.weight > 0 and roster[staff[r.staff]][r.day] == index[r.shift]
    ]
    return rng.choice(found) if found else (rng.randrange(inp.horizon_days), None)


def _clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


Kind = Callable[[Input, random.Random, float, Roster], Cells]
KINDS: dict[str, Kind] = {
    "days": free_days,
    "staff": free_staff,
    "block": free_block,
    "penalty": free_around_penalty,
}


@dataclass
class Arm:
    """One neighbourhood kind: its current size and how much it has earned lately."""

    fraction: float = 0.1
    score: float = 1.0  # decayed objective gain per second of sub-solve
    tries: int = 0


class Chooser:
    """Picks the next kind (mostly the best earner lately, sometimes any) and adapts its size."""

    def __init__(self, rng: random.Random, kinds: dict[str, Kind] = KINDS, explore: float = 0.3):
        self.rng, self.kinds, self.explore = rng, kinds, explore
        self.arms = {name: Arm() for name in kinds}

    def pick(self) -> str:
        untried = [name for name, arm in self.arms.items() if arm.tries == 0]
        if untried:
            return untried[0]
        if self.rng.random() < self.explore:
            return self.rng.choice(list(self.arms))
        return max(self.arms, key=lambda name: self.arms[name].score)

    def cells(self, name: str, inp: Input, roster: Roster) -> Cells:
        return self.kinds[name](inp, self.rng, self.arms[name].fraction, roster)

    def learn(self, name: str, solved: bool, gain: float, seconds: float) -> None:
        """Grow a kind whose sub-problem was solved to the end, shrink one that ran out of time."""
        arm = self.arms[name]
        arm.tries += 1
        arm.fraction = min(MAX_FRACTION, arm.fraction * 1.15) if solved else max(MIN_FRACTION, arm.fraction / 1.15)
        arm.score = 0.7 * arm.score + 0.3 * (gain / max(seconds, 0.05))
