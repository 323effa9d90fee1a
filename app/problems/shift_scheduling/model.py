"""The CP-SAT model: data -> variables -> constraints -> objective, and back from a solution to a roster.

`build()` creates one yes/no variable per (person, day, shift) plus a "works that day" variable per
(person, day), then adds each rule from `rules.py`. `extract()` turns variable values into a roster
(staff id -> one shift id or None per day); `hint()` feeds such a roster back in as a starting point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import Model, ValueOf
from app.problems.shift_scheduling import rules
from app.problems.shift_scheduling.schema import Input


@dataclass
class ShiftVars:
    """The decision variables, indexed by position in `inp.staff`, day, and position in `inp.shifts`."""

    assign: dict[tuple[int, int, int], cp_model.IntVar]  # (person, day, shift) -> works that shift
    works: dict[tuple[int, int], cp_model.IntVar]  # (person, day) -> works any shift that day
    terms: list[rules.PenaltyTerm] = field(default_factory=list)  # the objective, by soft rule
    # Auxiliary variables the rules add, kept so a hint can cover every variable (see `hint`).
    weekend: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)  # (person, weekend) -> worked
    # cover row i -> (under, over), for the rows whose penalty needs them (rules.add_cover)
    cover: dict[int, tuple[cp_model.IntVar, cp_model.IntVar]] = field(default_factory=dict)


def build(inp: Input) -> tuple[cp_model.CpModel, ShiftVars]:
    """The CP-SAT model of `inp`, minimising the total penalty of the soft rules."""
    model, v = build_own(inp)
    minimize(model, v, inp)
    return model, v


def build_own(inp: Input) -> tuple[cp_model.CpModel, ShiftVars]:
    """The model of `inp` without cover and objective: the variables, the hard rules and the requests'
    penalty terms, i.e. each person's own rules (`minimize` adds the rest). The construction builds a
    group's own rules while the group before it is solved, and its cover once that group's shifts are known."""
    model = Model()
    model.name = "shift_scheduling"
    people, days, shifts = range(len(inp.staff)), range(inp.horizon_days), range(len(inp.shifts))
    v = ShiftVars(
        assign={
            (p, d, s): model.new_bool_var(f"{inp.staff[p].id}_d{d}_{inp.shifts[s].id}")
            for p in people
            for d in days
            for s in shifts
        },
        works={(p, d): model.new_bool_var(f"{inp.staff[p].id}_d{d}_works") for p in people for d in days},
    )
    for add_hard_rule in rules.HARD:
        add_hard_rule(model, v, inp)
    for add_soft_rule in rules.OWN_SOFT:
        v.terms += add_soft_rule(model, v, inp)
    return model, v


def minimize(model: cp_model.CpModel, v: ShiftVars, inp: Input) -> None:
    """Adds the cover's penalty terms (inp.cover: the only rule that links people) to a model from
    `build_own` (once) and minimises the total penalty."""
    v.terms += rules.add_cover(model, v, inp)
    model.minimize(cp_model.LinearExpr.weighted_sum([expr for _, expr, _ in v.terms], [w for _, _, w in v.terms]))


def extract(inp: Input, v: ShiftVars, value: ValueOf) -> dict[str, Any]:
    """The roster in a solution: {"roster": {staff id: [shift id or None, one per day]}}.

    `value` is `solver.value` after a solve or a solution callback's `value` during one.
    """
    roster: dict[str, list[str | None]] = {}
    for p, person in enumerate(inp.staff):
        row: list[str | None] = []
        for d in range(inp.horizon_days):
            # Asking "works?" first halves the calls, which matters inside a solution callback.
            worked = value(v.works[p, d]) and next(
                (shift.id for s, shift in enumerate(inp.shifts) if value(v.assign[p, d, s])), None
            )
            row.append(worked or None)
        roster[person.id] = row
    return {"roster": roster}


def hint(model: cp_model.CpModel, v: ShiftVars, inp: Input, solution: dict[str, Any]) -> None:
    """Start the search from `solution` (e.g. a crashed solve's checkpoint) by hinting every variable.

    Every one, the penalty variables included: CP-SAT adopts a hint as its first solution only when it
    is complete, and a resumed solve must start from its checkpoint, not from somewhere worse.
    Tolerates a stale or partial roster: people or days it does not cover are hinted as off.
    """
    roster = solution.get("roster") if isinstance(solution, dict) else None
    roster = roster if isinstance(roster, dict) else {}
    shift_ids = {shift.id for shift in inp.shifts}
    worked: dict[tuple[int, int], str | None] = {}
    for p, person in enumerate(inp.staff):
        row = roster.get(person.id)
        row = row if isinstance(row, list) else []
        for d in range(inp.horizon_days):
            shift_id = row[d] if d < len(row) and row[d] in shift_ids else None
            worked[p, d] = shift_id
            for s, shift in enumerate(inp.shifts):
                model.add_hint(v.assign[p, d, s], shift_id == shift.id)
            model.add_hint(v.works[p, d], shift_id is not None)
    for (p, w), var in v.weekend.items():
        model.add_hint(var, any(worked[p, d] is not None for d in inp.weekends()[w]))
    for i, (under, over) in v.cover.items():
        c = inp.cover[i]
        on_shift = sum(worked[p, c.day] == c.shift for p in range(len(inp.staff)))
        model.add_hint(under, max(0, c.requirement - on_shift))
        model.add_hint(over, max(0, on_shift - c.requirement))
