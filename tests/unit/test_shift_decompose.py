"""The person-by-person decomposition of a roster (app/problems/shift_scheduling/decompose.py): a
sub-problem's penalty differs from the whole roster's by a constant, and pinned days keep their shifts."""

from __future__ import annotations

import random

import pytest
from ortools.sat.python import cp_model

from app.problems.shift_scheduling import demo
from app.problems.shift_scheduling.check import check
from app.problems.shift_scheduling.decompose import keep, sub_input
from app.problems.shift_scheduling.model import build, extract, hint


def some_roster(inp, rng: random.Random) -> dict[str, list[str | None]]:
    """Any roster (feasible or not: penalties are counted either way)."""
    choices = [None] + [shift.id for shift in inp.shifts]
    return {person.id: [rng.choice(choices) for _ in range(inp.horizon_days)] for person in inp.staff}


def test_a_groups_penalty_differs_from_the_rosters_by_a_constant():
    inp, rng = demo("medium"), random.Random(7)
    base = some_roster(inp, rng)
    people = rng.sample(range(len(inp.staff)), 4)
    sub = sub_input(inp, people, base)
    assert [p.id for p in sub.staff] == [inp.staff[p].id for p in people]
    assert all(r.staff in {p.id for p in sub.staff} for r in sub.shift_on_requests + sub.shift_off_requests)
    offsets = set()
    for _ in range(5):  # other rows for the group, everyone else as in `base`
        rows = {p.id: some_roster(sub, rng)[p.id] for p in sub.staff}
        whole = check(inp, {"roster": {**base, **rows}}).objective
        part = check(sub, {"roster": rows}).objective
        offsets.add(whole - part)
    assert len(offsets) == 1  # so a cheaper sub-roster is always a cheaper roster


@pytest.mark.parametrize("people", [[0], [0, 1], [0, 1, 2]])
def test_a_groups_model_counts_its_penalty_as_the_checker_does(people):
    """Cover cells whose sign is known in the group's model (nobody needed, or at least everyone in it) are
    gathered into one linear term with a constant: the model's objective is still the group's penalty."""
    inp = demo("medium")
    sub = sub_input(inp, people, some_roster(inp, random.Random(5)))
    assert any(c.requirement == 0 for c in sub.cover) and any(c.requirement >= len(people) for c in sub.cover)
    model, v = build(sub)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5
    solver.parameters.num_workers = 2
    assert solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert solver.objective_value == check(sub, extract(sub, v, solver.value)).objective


def test_cover_already_met_by_the_others_costs_the_group_only_its_extra_people():
    inp = demo("small")
    c = inp.cover[0]
    roster = {p.id: [None] * inp.horizon_days for p in inp.staff}
    for person in inp.staff[1 : 1 + c.requirement + 1]:  # one more than needed, the group's person aside
        roster[person.id][c.day] = c.shift
    sub = sub_input(inp, [0], roster)
    assert next(x for x in sub.cover if (x.day, x.shift) == (c.day, c.shift)).requirement == 0


def test_days_outside_the_window_keep_their_shifts():
    inp, rng = demo("medium"), random.Random(3)
    model, v = build(inp)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5
    solver.solve(model)
    roster = extract(inp, v, solver.value)["roster"]
    people = rng.sample(range(len(inp.staff)), 3)
    sub = sub_input(inp, people, roster)
    rows = {p.id: roster[p.id] for p in sub.staff}
    days = range(2, 5)
    sub_model, sv = build(sub)
    hint(sub_model, sv, sub, {"roster": rows})
    keep(sub_model, sv, sub, rows, days)
    status = solver.solve(sub_model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    new = extract(sub, sv, solver.value)["roster"]
    for who, row in new.items():
        assert [s for d, s in enumerate(row) if d not in days] == [s for d, s in enumerate(rows[who]) if d not in days]
    # ... and the group's new rows make a roster no worse than before.
    assert check(inp, {"roster": {**roster, **new}}).objective <= check(inp, {"roster": roster}).objective
