"""The CP-SAT model: one Boolean per (home, away, slot), venue and break variables derived from them.

Every team plays once per slot, every ordered pair meets once; phased leagues play a single round robin
in the first half. Redundant counts (n/2 home teams per slot, n-1 home games per team) help propagation.
Each constraint class is one `add_<class>` function. A HARD constraint is posted as a bound unless the
model is built `relaxed` (then its deviation is minimised first: the feasibility phase); a SOFT one
gets a deviation variable that costs penalty x deviation. `soft=False` leaves the soft ones out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import Model
from app.problems.round_robin.schema import Input

LinearExpr = Any


@dataclass
class Vars:
    """The model's variables: x[h][a][s] (h hosts a in slot s), home[t][s], and the deviation terms."""

    x: dict[tuple[int, int, int], cp_model.IntVar]
    home: list[list[cp_model.IntVar]]
    breaks: dict[tuple[int, int], tuple[cp_model.IntVar, cp_model.IntVar]] = field(default_factory=dict)
    soft_terms: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)  # (deviation, penalty)
    hard_terms: list[cp_model.IntVar] = field(default_factory=list)  # deviations of relaxed HARD constraints
    travel: list[cp_model.IntVar] = field(default_factory=list)
    cum: dict[int, list[cp_model.IntVar]] = field(default_factory=dict)  # home games so far, per team
    negated: dict[tuple[int, int, int], Any] = field(default_factory=dict)  # not x, made once for the search


@dataclass
class Build:
    """What the builder needs while posting: the model, the variables and how HARD is treated."""

    model: cp_model.CpModel
    v: Vars
    inp: Input
    relaxed: bool = False
    soft: bool = True

    def bound(self, con: Any, expr: LinearExpr, lo: int, hi: int, ub: int) -> None:
        """lo <= expr <= hi, hard or as a deviation term (ub bounds the deviation)."""
        if con.type == "HARD" and not self.relaxed:
            if lo > 0:
                self.model.add(expr >= lo)
            self.model.add(expr <= hi)
            return
        if con.type == "SOFT" and (not self.soft or con.penalty == 0):
            return
        dev = self.model.new_int_var(0, max(0, ub), "dev")
        self.model.add(expr - hi <= dev)
        if lo > 0:
            self.model.add(lo - expr <= dev)
        if con.type == "HARD":
            self.v.hard_terms.append(dev)
        else:
            self.v.soft_terms.append((dev, con.penalty))

    def games(self, team: int, slot: int, others: list[int], mode: str) -> LinearExpr:
        """Games of `mode` (from `team`'s side) that `team` plays against `others` in `slot`."""
        others = [o for o in others if o != team]
        n = self.inp.n
        if len(others) == n - 1 and mode != "HA":  # against everyone: just the venue
            return self.v.home[team][slot] if mode == "H" else 1 - self.v.home[team][slot]
        if len(others) == n - 1:
            return 1
        x = self.v.x
        terms = []
        if mode in ("H", "HA"):
            terms += [x[team, o, slot] for o in others]
        if mode in ("A", "HA"):
            terms += [x[o, team, slot] for o in others]
        return sum(terms)

    def brk(self, team: int, slot: int, mode: str = "HA") -> LinearExpr:
        """1 if `team` has a break (of `mode`) in `slot`: the same venue as in the slot before."""
        if slot == 0:
            return 0
        if (team, slot) not in self.v.breaks:
            self.v.breaks[team, slot] = _break_vars(self.model, self.v.home[team][slot - 1], self.v.home[team][slot])
        home_break, away_break = self.v.breaks[team, slot]
        return home_break if mode == "H" else away_break if mode == "A" else home_break + away_break


def _break_vars(model: cp_model.CpModel, before: Any, now: Any) -> tuple[Any, Any]:
    hb, ab = model.new_bool_var("hbreak"), model.new_bool_var("abreak")
    model.add_bool_and([before, now]).only_enforce_if(hb)
    model.add_bool_or([before.Not(), now.Not()]).only_enforce_if(hb.Not())
    model.add_bool_and([before.Not(), now.Not()]).only_enforce_if(ab)
    model.add_bool_or([before, now]).only_enforce_if(ab.Not())
    return hb, ab


def build(inp: Input, *, relaxed: bool = False, soft: bool = True) -> tuple[cp_model.CpModel, Vars]:
    """The model of `inp`: the round robin, every constraint class, and the objective."""
    model = Model()
    n, num_slots = inp.n, inp.num_slots
    x = {
        (h, a, s): model.new_bool_var(f"x{h}_{a}_{s}")
        for h in range(n)
        for a in range(n)
        if h != a
        for s in range(num_slots)
    }
    home = [[model.new_bool_var(f"home{t}_{s}") for s in range(num_slots)] for t in range(n)]
    b = Build(model, Vars(x, home), inp, relaxed, soft)
    add_round_robin(b)
    add_phases(b)
    for con in inp.constraints:
        ADDERS[con.constraint](b, con)
    if inp.distances is not None:
        add_travel(b)
        add_time_reversal_symmetry(b)
    add_objective(b)
    return model, b.v


def add_round_robin(b: Build) -> None:
    """Every team plays exactly once in every slot, and hosts every other team exactly once."""
    n, num_slots, x, home, m = b.inp.n, b.inp.num_slots, b.v.x, b.v.home, b.model
    for s in range(num_slots):
        for t in range(n):
            m.add_exactly_one([x[t, o, s] for o in range(n) if o != t] + [x[o, t, s] for o in range(n) if o != t])
            m.add(home[t][s] == sum(x[t, o, s] for o in range(n) if o != t))
        m.add(sum(home[t][s] for t in range(n)) == n // 2)  # redundant: half the teams are at home
    for h in range(n):
        m.add(sum(home[h]) == n - 1)  # redundant: n-1 home games each
        for a in range(n):
            if h != a:
                m.add_exactly_one([x[h, a, s] for s in range(num_slots)])
    for h, a in combinations(range(n), 2):
        for s in range(num_slots):  # a pair meets once per slot at most (redundant, strengthens LP)
            m.add_at_most_one([x[h, a, s], x[a, h, s]])


def add_phases(b: Build) -> None:
    """Phased: every pair meets once in the first half of the season."""
    if not b.inp.phased:
        return
    n, x = b.inp.n, b.v.x
    for h, a in combinations(range(n), 2):
        b.model.add_exactly_one([x[h, a, s] for s in range(n - 1)] + [x[a, h, s] for s in range(n - 1)])


def add_ca1(b: Build, con: Any) -> None:
    """A team plays at most `max` home (or away) games in the given slots."""
    for t in con.teams:
        count = sum(b.v.home[t][s] if con.mode == "H" else 1 - b.v.home[t][s] for s in con.slots)
        b.bound(con, count, con.min, con.max, len(con.slots))


def add_ca2(b: Build, con: Any) -> None:
    """A team plays at most `max` games against the listed opponents in the given slots."""
    for t in con.teams1:
        count = sum(b.games(t, s, con.teams2, con.mode1) for s in con.slots)
        b.bound(con, count, con.min, con.max, len(con.slots))


def add_ca3(b: Build, con: Any) -> None:
    """A team plays at most `max` games against the listed opponents in any `intp` consecutive slots."""
    num_slots = b.inp.num_slots
    for t in con.teams1:
        per_slot = [b.games(t, s, con.teams2, con.mode1) for s in range(num_slots)]
        for start in range(num_slots - con.intp + 1):
            b.bound(con, sum(per_slot[start : start + con.intp]), con.min, con.max, con.intp)


def add_ca4(b: Build, con: Any) -> None:
    """The listed teams together play at most `max` games against the others (over the slots, or in each)."""
    t1, t2 = set(con.teams1), set(con.teams2)
    pairs = set()
    if con.mode1 in ("H", "HA"):
        pairs |= {(h, a) for h in t1 for a in t2 if h != a}
    if con.mode1 in ("A", "HA"):
        pairs |= {(h, a) for a in t1 for h in t2 if h != a}
    groups = [con.slots] if con.mode2 == "GLOBAL" else [[s] for s in con.slots]
    for group in groups:
        count = sum(b.v.x[h, a, s] for h, a in pairs for s in group)
        b.bound(con, count, con.min, con.max, min(len(pairs), len(group) * b.inp.n // 2))


def add_ga1(b: Build, con: Any) -> None:
    """Between `min` and `max` of the listed games take place in the given slots."""
    count = sum(b.v.x[h, a, s] for h, a in con.meetings for s in con.slots)
    b.bound(con, count, con.min, con.max, len(con.meetings))


def add_br1(b: Build, con: Any) -> None:
    """A team has at most `intp` breaks (two home or two away games in a row) in the given slots."""
    for t in con.teams:
        count = sum(b.brk(t, s, con.mode2) for s in con.slots)
        b.bound(con, count, 0, con.intp, len(con.slots))


def add_br2(b: Build, con: Any) -> None:
    """The listed teams together have at most `intp` breaks in the given slots."""
    count = sum(b.brk(t, s) for t in con.teams for s in con.slots)
    b.bound(con, count, 0, con.intp, len(con.teams) * len(con.slots))


def add_fa2(b: Build, con: Any) -> None:
    """At any time, two listed teams have played numbers of home games at most `intp` apart."""
    for t in con.teams:
        _cumulative_home(b, t)
    slots = sorted(set(con.slots))
    hard = con.type == "HARD" and not b.relaxed
    for i, j in combinations(con.teams, 2):
        if hard:
            for s in slots:
                b.model.add(b.v.cum[i][s] - b.v.cum[j][s] <= con.intp)
                b.model.add(b.v.cum[j][s] - b.v.cum[i][s] <= con.intp)
            continue
        if con.type == "SOFT" and (not b.soft or con.penalty == 0):
            continue
        dev = b.model.new_int_var(0, b.inp.n, "fa2dev")  # the pair's largest excess over the slots
        for s in slots:
            b.model.add(b.v.cum[i][s] - b.v.cum[j][s] - con.intp <= dev)
            b.model.add(b.v.cum[j][s] - b.v.cum[i][s] - con.intp <= dev)
        (b.v.hard_terms.append(dev) if con.type == "HARD" else b.v.soft_terms.append((dev, con.penalty)))


def _cumulative_home(b: Build, team: int) -> None:
    if team in b.v.cum:
        return
    cum, total = [], 0
    for s in range(b.inp.num_slots):
        var = b.model.new_int_var(0, s + 1, f"cum{team}_{s}")
        b.model.add(var == total + b.v.home[team][s])
        cum.append(var)
        total = var
    b.v.cum[team] = cum


def add_se1(b: Build, con: Any) -> None:
    """The two games of a pair are at least `min` slots apart."""
    num_slots, x = b.inp.num_slots, b.v.x
    hard = con.type == "HARD" and not b.relaxed
    for i, j in combinations(con.teams, 2):
        meets = [x[i, j, s] + x[j, i, s] for s in range(num_slots)]
        if hard and con.min > 0:  # at most one meeting in any min+1 consecutive slots
            for start in range(num_slots - con.min):
                b.model.add(sum(meets[start : start + con.min + 1]) <= 1)
        if not hard and (con.type == "HARD" or (b.soft and con.penalty)):
            first = sum(s * x[i, j, s] for s in range(num_slots))
            second = sum(s * x[j, i, s] for s in range(num_slots))
            gap = b.model.new_int_var(1, num_slots - 1, "se1gap")
            b.model.add_abs_equality(gap, first - second)
            b.bound(con, gap - 1, con.min, con.max if con.max is not None else num_slots, num_slots)
        elif hard and con.max is not None and con.max < num_slots - 2:
            first = sum(s * x[i, j, s] for s in range(num_slots))
            second = sum(s * x[j, i, s] for s in range(num_slots))
            b.model.add(first - second <= con.max + 1)
            b.model.add(second - first <= con.max + 1)


def add_travel(b: Build) -> None:
    """Each team travels from home to each away game in turn and back home at the end."""
    n, num_slots, d, x = b.inp.n, b.inp.num_slots, b.inp.distances or [], b.v.x
    table = [(p, q, d[p][q]) for p in range(n) for q in range(n)]
    top = max(max(row) for row in d) if d else 0
    for t in range(n):
        where = []
        for s in range(num_slots):
            loc = b.model.new_int_var(0, n - 1, f"loc{t}_{s}")
            b.model.add(loc == t * b.v.home[t][s] + sum(o * x[o, t, s] for o in range(n) if o != t))
            where.append(loc)
        route = [t, *where, t]
        for p, q in zip(route, route[1:], strict=False):
            leg = b.model.new_int_var(0, top, "leg")
            if isinstance(p, int) and isinstance(q, int):
                b.model.add(leg == d[p][q])
            elif isinstance(p, int):
                b.model.add_element(q, [d[p][k] for k in range(n)], leg)
            elif isinstance(q, int):
                b.model.add_element(p, [d[k][q] for k in range(n)], leg)
            else:
                b.model.add_allowed_assignments([p, q, leg], table)
            b.v.travel.append(leg)


def add_time_reversal_symmetry(b: Build) -> None:
    """Team 0 hosts team 1 before visiting it (a tour played backwards travels as far: only one of the two)."""
    inp = b.inp
    d = inp.distances or []
    symmetric = all(d[p][q] == d[q][p] for p in range(inp.n) for q in range(inp.n))
    # Only CA3 windows over all slots and SE1 separations look the same backwards.
    if not symmetric or any(con.constraint not in ("CA3", "SE1") for con in inp.constraints):
        return
    x, num_slots = b.v.x, inp.num_slots
    b.model.add(sum(s * x[0, 1, s] for s in range(num_slots)) < sum(s * x[1, 0, s] for s in range(num_slots)))


def add_objective(b: Build) -> None:
    """Relaxed: break as few HARD constraints as possible. Else: penalties of SOFT ones plus travel."""
    if b.relaxed:
        b.model.minimize(sum(b.v.hard_terms))
        return
    terms = [p * dev for dev, p in b.v.soft_terms] + list(b.v.travel)
    if terms:
        b.model.minimize(sum(terms))


ADDERS: dict[str, Callable[[Build, Any], None]] = {
    "CA1": add_ca1,
    "CA2": add_ca2,
    "CA3": add_ca3,
    "CA4": add_ca4,
    "GA1": add_ga1,
    "BR1": add_br1,
    "BR2": add_br2,
    "FA2": add_fa2,
    "SE1": add_se1,
}


def extract(inp: Input, v: Vars, value: Callable[[Any], int]) -> dict:
    """The schedule: [home, away, slot] for every game."""
    return {"games": [[h, a, s] for (h, a, s), var in v.x.items() if value(var)]}


def hint(model: cp_model.CpModel, v: Vars, inp: Input, solution: dict) -> None:
    """Offer `solution` as CP-SAT's starting point (the games; everything else follows from them)."""
    played = {tuple(g) for g in solution.get("games", [])}
    model.clear_hints()
    for key, var in v.x.items():
        model.add_hint(var, key in played)
