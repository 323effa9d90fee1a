"""How big the CP-SAT model of an input will be, counted from the input alone (no model is built).

It mirrors `rules.py` rule by rule, so the web can refuse an input whose model would not fit in a
worker's memory before anything is stored (the building itself is what runs out of memory: ~100 bytes
of Python and protobuf per constraint term). The counts are exact for variables and constraints and a
close upper bound for terms (literals and coefficients summed over every constraint).
"""

from __future__ import annotations

from collections import defaultdict

from app.problems.shift_scheduling.rules import cover_needs_variables
from app.problems.shift_scheduling.schema import Input


def estimate(inp: Input) -> dict[str, int]:
    """{"variables", "constraints", "terms"} of the model `build(inp)` would make."""
    people, days, shifts = len(inp.staff), inp.horizon_days, len(inp.shifts)
    size = _Size(variables=people * days * (shifts + 1))  # assign + works
    size.add(people * days, shifts + 1)  # one shift per day (works == sum of shifts)
    _successions(size, inp)
    for person in inp.staff:
        _person(size, inp, person)
    requests = sum(r.weight > 0 for r in inp.shift_on_requests) + sum(r.weight > 0 for r in inp.shift_off_requests)
    for c in inp.cover:
        if cover_needs_variables(c.requirement, people):  # else its penalty is linear in on_shift
            size.variables += 2  # under, over
            size.add(2, people + 2)  # under = max(req - on_shift, 0), likewise over
    size.terms += requests + 2 * len(inp.cover)  # the objective (at most)
    return {"variables": size.variables, "constraints": size.constraints, "terms": size.terms}


class _Size:
    def __init__(self, variables: int = 0) -> None:
        self.variables, self.constraints, self.terms = variables, 0, 0

    def add(self, count: int, terms_each: int) -> None:
        self.constraints += count
        self.terms += count * terms_each


def _successions(size: _Size, inp: Input) -> None:
    groups: dict[frozenset[str], int] = defaultdict(int)
    for shift in inp.shifts:
        if shift.cannot_follow:
            groups[frozenset(shift.cannot_follow)] += 1
    for followers, today in groups.items():
        size.add(len(inp.staff) * max(0, inp.horizon_days - 1), today + len(followers))


def _person(size: _Size, inp, person) -> None:
    days, shifts = inp.horizon_days, len(inp.shifts)
    size.add(len(set(person.days_off)), 1)
    for limit in person.max_shifts.values():
        if limit == 0:
            size.add(days, 1)
        elif limit < days:
            size.add(1, days)
    bounds = (person.min_total_minutes > 0) + (person.max_total_minutes is not None)
    size.add(bounds, days * shifts)
    limit = person.max_consecutive_shifts
    if limit is not None and limit < days:
        size.add(days - limit, limit + 1)
    for minimum in (person.min_consecutive_shifts, person.min_consecutive_days_off):
        size.add(_short_stretch_clauses(days, minimum), 3)
    weekends = inp.weekends()
    if person.max_weekends is not None and person.max_weekends < len(weekends):
        size.variables += len(weekends)
        size.add(len(weekends), 3)
        size.add(1, len(weekends))


def _short_stretch_clauses(days: int, minimum: int) -> int:
    """Clauses of `_forbid_short_stretches`: for each start 1..days-1, the later days before start+minimum."""
    if minimum <= 1 or days < 2:
        return 0
    span = minimum - 1  # later days per start while the horizon is far
    full = max(0, days - minimum)  # starts 1..days-minimum see all `span` later days
    # The last starts see fewer: days-1-start of them, from span-1 down to 0.
    tail_starts = days - 1 - full
    tail = sum(min(span, days - 1 - start) for start in range(full + 1, full + 1 + tail_starts))
    return full * span + tail
