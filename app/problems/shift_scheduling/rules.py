"""The rules of a roster, one function each, as CP-SAT constraints.

Hard rules add constraints that every roster must satisfy. Soft rules return penalty terms
(rule key, expression, weight) that the objective adds up, as in OR-Tools' shift_scheduling_sat.py.
Boundary convention of the benchmark: minimum stretch lengths only bind to stretches that start
after day 0 and end before the horizon does (the days beyond the plan are unknown).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from app.problems.shift_scheduling.schema import Input

if TYPE_CHECKING:
    from app.problems.shift_scheduling.model import ShiftVars

PenaltyTerm = tuple[str, cp_model.LinearExprT, int]  # (rule key, expression >= 0, weight)


# --- hard rules -----------------------------------------------------------------------------------


def add_one_shift_per_day(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """No one works more than one shift a day."""
    for p in range(len(inp.staff)):
        for d in range(inp.horizon_days):
            # works == sum(shifts) both caps the day at one shift and defines the "works" literal.
            model.add(v.works[p, d] == sum(v.assign[p, d, s] for s in range(len(inp.shifts))))


def add_days_off(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """No one works on one of their days off."""
    for p, person in enumerate(inp.staff):
        for d in set(person.days_off):
            model.add(v.works[p, d] == 0)


def add_forbidden_successions(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """No one works a shift the day after a shift it may not follow (e.g. no early after a late)."""
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    # Shifts with the same forbidden followers form one clique with those followers (a person works
    # at most one of them today and at most one tomorrow): one at-most-one per group instead of one
    # clause per pair gives a much tighter LP relaxation.
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for s, shift in enumerate(inp.shifts):
        if shift.cannot_follow:
            groups[frozenset(shift.cannot_follow)].append(s)
    for p in range(len(inp.staff)):
        for d in range(inp.horizon_days - 1):
            for followers, today in groups.items():
                model.add_at_most_one(
                    [v.assign[p, d, s] for s in today] + [v.assign[p, d + 1, index[t]] for t in followers]
                )


def add_max_shifts_per_type(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """No one works more shifts of a kind than their limit for it."""
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    for p, person in enumerate(inp.staff):
        for shift_id, limit in person.max_shifts.items():
            s = index[shift_id]
            if limit == 0:  # "never works it": fix the variables so presolve drops them at once
                for d in range(inp.horizon_days):
                    model.add(v.assign[p, d, s] == 0)
            elif limit < inp.horizon_days:
                model.add(sum(v.assign[p, d, s] for d in range(inp.horizon_days)) <= limit)


def add_total_minutes(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """Everyone works between their minimum and maximum minutes over the plan."""
    for p, person in enumerate(inp.staff):
        minutes = sum(
            shift.length_minutes * v.assign[p, d, s]
            for d in range(inp.horizon_days)
            for s, shift in enumerate(inp.shifts)
        )
        if person.min_total_minutes > 0:
            model.add(minutes >= person.min_total_minutes)
        if person.max_total_minutes is not None:
            model.add(minutes <= person.max_total_minutes)


def add_max_consecutive_shifts(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """No one works more days in a row than their maximum (e.g. 5)."""
    for p, person in enumerate(inp.staff):
        limit = person.max_consecutive_shifts
        if limit is None or limit >= inp.horizon_days:
            continue
        # Every window of limit+1 days holds at least one day off.
        for start in range(inp.horizon_days - limit):
            model.add(sum(v.works[p, d] for d in range(start, start + limit + 1)) <= limit)


def add_min_consecutive_shifts(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """Once someone starts working, they work at least their minimum days in a row."""
    for p, person in enumerate(inp.staff):
        works = [v.works[p, d] for d in range(inp.horizon_days)]
        _forbid_short_stretches(model, works, person.min_consecutive_shifts)


def add_min_consecutive_days_off(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """Once someone has a day off, they get at least their minimum days off in a row."""
    for p, person in enumerate(inp.staff):
        off = [~v.works[p, d] for d in range(inp.horizon_days)]
        _forbid_short_stretches(model, off, person.min_consecutive_days_off)


def _forbid_short_stretches(model: cp_model.CpModel, on: list[cp_model.IntVar], minimum: int) -> None:
    """A stretch of `on` days that starts after day 0 lasts `minimum` days, or until the horizon ends.

    "Off yesterday and on today implies on `later`", one 3-literal clause per later day: these
    short clauses give a tighter LP relaxation than forbidding each short pattern as a whole.
    """
    for start in range(1, len(on)):
        for later in range(start + 1, min(start + minimum, len(on))):
            model.add_bool_or([on[start - 1], ~on[start], on[later]])


def add_max_weekends(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """No one works more weekends than their limit (Saturday, Sunday or both counts as one)."""
    all_weekends = inp.weekends()
    for p, person in enumerate(inp.staff):
        if person.max_weekends is None or person.max_weekends >= len(all_weekends):
            continue
        worked = []
        for w, days in enumerate(all_weekends):
            weekend = model.new_bool_var(f"{person.id}_weekend_d{days[0]}")
            # weekend = max(works Saturday, works Sunday): either day makes it a worked weekend.
            model.add_max_equality(weekend, [v.works[p, d] for d in days])
            worked.append(weekend)
            v.weekend[p, w] = weekend
        model.add(sum(worked) <= person.max_weekends)


HARD: list[Callable[[cp_model.CpModel, ShiftVars, Input], None]] = [
    add_one_shift_per_day,
    add_days_off,
    add_forbidden_successions,
    add_max_shifts_per_type,
    add_total_minutes,
    add_max_consecutive_shifts,
    add_min_consecutive_shifts,
    add_min_consecutive_days_off,
    add_max_weekends,
]


# --- soft rules -----------------------------------------------------------------------------------


def add_shift_on_requests(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> list[PenaltyTerm]:
    """People who ask to work a shift get it where possible; each refusal costs the request's weight."""
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    staff = {person.id: p for p, person in enumerate(inp.staff)}
    return [
        ("shift_on_requests", 1 - v.assign[staff[r.staff], r.day, index[r.shift]], r.weight)
        for r in inp.shift_on_requests
        if r.weight > 0
    ]


def add_shift_off_requests(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> list[PenaltyTerm]:
    """People who ask not to work a shift are spared it where possible; each refusal costs its weight."""
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    staff = {person.id: p for p, person in enumerate(inp.staff)}
    return [
        ("shift_off_requests", v.assign[staff[r.staff], r.day, index[r.shift]], r.weight)
        for r in inp.shift_off_requests
        if r.weight > 0
    ]


def add_cover(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> list[PenaltyTerm]:
    """Each shift has as many people as it needs; every person missing or too many costs a penalty."""
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    staff = range(len(inp.staff))
    terms: list[PenaltyTerm] = []
    # Cells whose sign is known, gathered into one linear term: (variable, coefficient) pairs and a constant.
    known_vars: list[cp_model.IntVar] = []
    known_coefs: list[int] = []
    constant = 0
    for i, c in enumerate(inp.cover):
        cell = [v.assign[p, c.day, index[c.shift]] for p in staff]
        # Exact definitions, under = max(0, requirement - on_shift) and likewise over. Even so, the
        # solver's objective for an intermediate solution can exceed the roster's true cost (presolve
        # may loosen them, see DESIGN.md): report the objective the checker recomputes.
        # Where the sign is known the max is linear and needs no variable: nobody needed (the over-cover
        # is on_shift itself), or at least everyone in the model (the shortfall is requirement - on_shift).
        # A construction step's model of one or two people is all such cells: thousands of variables and
        # equalities fewer to build on a long plan, and one term instead of thousands.
        if cover_needs_variables(c.requirement, len(staff)):
            on_shift = cp_model.LinearExpr.sum(cell)
            under = model.new_int_var(0, c.requirement, f"under_d{c.day}_{c.shift}")
            over = model.new_int_var(0, len(staff) - c.requirement, f"over_d{c.day}_{c.shift}")
            model.add_max_equality(under, [c.requirement - on_shift, 0])
            model.add_max_equality(over, [on_shift - c.requirement, 0])
            v.cover[i] = (under, over)
            terms += [("cover_under", under, c.weight_under), ("cover_over", over, c.weight_over)]
        elif c.requirement == 0:  # over = on_shift
            known_vars += cell
            known_coefs += [c.weight_over] * len(cell)
        else:  # at least everyone in the model is needed: under = requirement - on_shift
            constant += c.requirement * c.weight_under
            known_vars += cell
            known_coefs += [-c.weight_under] * len(cell)
    if known_vars or constant:
        terms.append(("cover", cp_model.LinearExpr.weighted_sum(known_vars, known_coefs) + constant, 1))
    return terms


def cover_needs_variables(requirement: int, staff: int) -> bool:
    """Whether `add_cover` gives a cover cell its own under/over variables: only where its sign is unknown."""
    return 0 < requirement < staff


# The soft rules that are one person's own; cover (add_cover), the only rule that links people, comes apart
# (model.minimize).
OWN_SOFT: list[Callable[[cp_model.CpModel, ShiftVars, Input], list[PenaltyTerm]]] = [
    add_shift_on_requests,
    add_shift_off_requests,
]
