"""Home/away pattern first, opponents second: the construction the ITC2021 leaders used.

1. The pattern model has one Boolean home[t][s] per team and slot and nothing else: half the teams
   at home in every slot, n-1 home games per team, every pair of teams able to meet once at each home
   (some slot where one is home and the other away, and the other way round; phased: they must also
   differ somewhere in each half), and every constraint that only counts venues: CA1, BR1, BR2, FA2,
   and CA2/CA3/CA4 against all other teams with mode H or A. HARD ones strictly; SOFT ones of those
   classes may enter its objective. HARD constraints on opponents imply some bounds on venues too
   (`implied`): a GA1 game needs a slot of its slots (or outside them) where its host is home and its
   guest away; a CA2 or CA4 limit bounds home (away) counts minus the games other opponents can absorb.
2. The opponent model is the whole model with the HARD constraints relaxed (their deviation
   minimised, as in the feasibility phase) and every venue fixed to the pattern: CP-SAT only assigns
   opponents, a much smaller search. Its best timetable starts the fix-and-optimise repair.

The pattern constraints are necessary, not sufficient: a pattern may have no round robin at all. Then
the pattern is cut off and the next one tried.
"""

from __future__ import annotations

import logging
from itertools import combinations
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import Model, SearchContext
from app.problems.round_robin.model import ADDERS, Build, Vars, build, extract
from app.problems.round_robin.schema import Input

log = logging.getLogger(__name__)
Pattern = list[list[int]]  # pattern[t][s] = 1 if team t plays at home in slot s


def venue_only(inp: Input, con: Any) -> bool:
    """True if `con` counts only the venues of games (so the pattern alone decides its deviation)."""
    kind = con.constraint
    if kind in ("CA1", "BR1", "BR2", "FA2"):
        return True
    everyone = set(range(inp.n))
    if kind in ("CA2", "CA3"):
        return con.mode1 != "HA" and all(everyone - {t} <= set(con.teams2) for t in con.teams1)
    if kind == "CA4":
        return con.mode1 != "HA" and set(con.teams2) >= everyone
    return False


def _add_ca4(b: Build, con: Any) -> None:
    """CA4 against every team with mode H (A): the home (away) games of `teams1`, summed."""
    groups = [con.slots] if con.mode2 == "GLOBAL" else [[s] for s in con.slots]
    for group in groups:
        count = sum(b.v.home[t][s] if con.mode1 == "H" else 1 - b.v.home[t][s] for t in con.teams1 for s in group)
        b.bound(con, count, con.min, con.max, len(con.teams1) * len(group))


def _add_ga1(model: cp_model.CpModel, hosts: dict, con: Any, num_slots: int) -> None:
    """At least `min` meetings need a slot of `slots` where the host is home and the guest away; all but
    `max` need such a slot outside `slots`."""
    outside = [s for s in range(num_slots) if s not in set(con.slots)]
    for where, least in ((con.slots, con.min), (outside, len(con.meetings) - con.max)):
        if least <= 0:
            continue
        possible = []
        for h, a in con.meetings:
            var = model.new_bool_var("")
            model.add_bool_or([hosts[h, a, s] for s in where] or [False]).only_enforce_if(var)
            possible.append(var)
        model.add(sum(possible) >= least)


def _add_ca2_bound(b: Build, con: Any) -> None:
    """CA2 against some teams (mode H or A): a team hosts (visits) each other team once, so of its home
    (away) games in `slots`, all but those against the teams outside `teams2` are against `teams2`."""
    n = b.inp.n
    for t in con.teams1:
        others = n - 1 - len(set(con.teams2) - {t})
        venue = sum(b.v.home[t][s] if con.mode1 == "H" else 1 - b.v.home[t][s] for s in con.slots)
        b.model.add(venue - others <= con.max)


def _add_ca4_bound(b: Build, con: Any) -> None:
    """CA4 between groups: in a slot, the teams of `teams1` at home (mode H) each play an away team; all
    but as many as are away outside `teams2` play one of `teams2`. Mode A alike, HA both."""
    n, home, model = b.inp.n, b.v.home, b.model
    t1, t2 = set(con.teams1), set(con.teams2)
    rest = [t for t in range(n) if t not in t2]

    def least(s: int) -> list:
        out = []
        if con.mode1 in ("H", "HA"):  # teams1 at home minus the away teams outside teams2
            out.append(sum(home[t][s] for t in t1) - sum(1 - home[t][s] for t in rest))
        if con.mode1 in ("A", "HA"):
            out.append(sum(1 - home[t][s] for t in t1) - sum(home[t][s] for t in rest))
        return out

    if con.mode2 == "EVERY":
        for s in con.slots:
            for expr in least(s):
                model.add(expr <= con.max)
        return
    total = []
    for s in con.slots:
        y = model.new_int_var(0, n // 2, "")
        for expr in least(s):
            model.add(y >= expr)
        total.append(y)
    model.add(sum(total) <= con.max)


def implied(b: Build, hosts: dict, con: Any) -> None:
    """What a HARD constraint on opponents implies for the venues (GA1, CA2, CA4; see the functions)."""
    if con.type != "HARD":
        return
    if con.constraint == "GA1":
        _add_ga1(b.model, hosts, con, b.inp.num_slots)
    elif con.constraint == "CA2" and con.mode1 != "HA":
        _add_ca2_bound(b, con)
    elif con.constraint == "CA4":
        _add_ca4_bound(b, con)


def pattern_model(
    inp: Input, soft: bool = True, implied_bounds: bool = True
) -> tuple[cp_model.CpModel, list[list[cp_model.IntVar]]]:
    """The model over home[t][s] alone (see the module doc); its objective: the venue-only SOFT penalties.

    implied_bounds: add what HARD constraints on opponents imply for the venues (`implied`)."""
    model = Model()
    n, num_slots = inp.n, inp.num_slots
    home = [[model.new_bool_var(f"home{t}_{s}") for s in range(num_slots)] for t in range(n)]
    b = Build(model, Vars({}, home), inp, relaxed=False, soft=soft)
    for s in range(num_slots):
        model.add(sum(home[t][s] for t in range(n)) == n // 2)
    for t in range(n):
        model.add(sum(home[t]) == n - 1)
    halves = [range(n - 1), range(n - 1, num_slots)]
    hosts = {}  # (host, guest, slot) -> the two play at different venues, host at home
    for i, j in combinations(range(n), 2):
        for s in range(num_slots):
            for h, a in ((i, j), (j, i)):
                var = model.new_bool_var("")
                model.add_implication(var, home[h][s])
                model.add_implication(var, ~home[a][s])
                hosts[h, a, s] = var
        for h, a in ((i, j), (j, i)):
            model.add_bool_or([hosts[h, a, s] for s in range(num_slots)])
        if inp.phased:
            for half in halves:
                model.add_bool_or([hosts[h, a, s] for s in half for h, a in ((i, j), (j, i))])
    for con in inp.constraints:
        if not venue_only(inp, con):
            if implied_bounds:
                implied(b, hosts, con)
            continue
        if con.constraint == "CA4":
            _add_ca4(b, con)
        else:
            ADDERS[con.constraint](b, con)
    terms = [p * dev for dev, p in b.v.soft_terms]
    if terms:
        model.minimize(sum(terms))
    return model, home


def find_pattern(
    ctx: SearchContext,
    inp: Input,
    seconds: float,
    cuts: list[Pattern],
    soft: bool = False,
    near: Pattern | None = None,
) -> Pattern | None:
    """A pattern meeting every venue-only HARD constraint, unlike each of `cuts`; None if none was found.

    soft=False: the first such pattern (fast); True: the best for the venue-only SOFT penalties.
    `near` is hinted: a different hint each time is what makes the patterns of a loop differ."""
    model, home = pattern_model(inp, soft=soft)
    if near is not None:
        for t, row in enumerate(near):
            for s, at_home in enumerate(row):
                model.add_hint(home[t][s], bool(at_home))
    for old in cuts:  # not this pattern again: some venue must differ
        model.add_bool_or(
            [home[t][s] if not old[t][s] else ~home[t][s] for t in range(inp.n) for s in range(inp.num_slots)]
        )
    result = ctx.solve(
        model,
        lambda value: {"home": [[value(v) for v in row] for row in home]},
        time_limit=seconds,
        params={} if soft else {"stop_after_first_solution": True},
        full=False,
        report=False,
    )
    log.debug("pattern: %s %.1fs objective %s", result.status, result.wall_time, result.objective)
    return result.solution["home"] if result.solution else None


def assign_opponents(ctx: SearchContext, inp: Input, pattern: Pattern, seconds: float) -> tuple[list, int] | None:
    """The timetable with these venues that breaks the HARD constraints least: (games, its deviation)."""
    model, v = build(inp, relaxed=True, soft=False)
    for t, row in enumerate(pattern):
        for s, at_home in enumerate(row):
            model.add(v.home[t][s] == at_home)
    result = ctx.solve(
        model,
        lambda value: extract(inp, v, value),
        time_limit=seconds,
        full=False,
        report=False,
    )
    log.debug("opponents: %s %.1fs hard=%s", result.status, result.wall_time, result.objective)
    if result.solution is None:
        return None
    return [tuple(g) for g in result.solution["games"]], round(result.objective)


def pattern_of(inp: Input, games: list) -> Pattern:
    """The venues of a timetable."""
    pattern = [[0] * inp.num_slots for _ in range(inp.n)]
    for h, _, s in games:
        pattern[h][s] = 1
    return pattern
