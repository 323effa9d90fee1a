"""Stage 2, the date model: which date each game is played on and which team is at home.

Variables exist only for (game, date, home side) where both teams are free and the date has slots:
about 630 games x 20 dates x 2 sides = 25k Booleans for the 200-team demo, against the ~955k of one
Boolean per (day, ordered team pair). Fields and kick-offs are left to stage 3 (`slots.py`): once the
dates are fixed the venues of different dates no longer interact, and the date model only has to keep
each date within its slot count and each home venue within its own (the home-venue penalty).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from app.problems.base import Model, ValueOf
from app.problems.league_scheduling import rules
from app.problems.league_scheduling.games import Game, choose
from app.problems.league_scheduling.schema import Input
from app.problems.league_scheduling.season import Calendar

Plan = dict[int, tuple[int, int]]  # game index -> (date index, side: 0 = team a at home, 1 = team b)


@dataclass
class DateVars:
    inp: Input
    cal: Calendar
    games: list[Game]
    x: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)  # (game, date, side)
    by_game: dict[int, list[cp_model.IntVar]] = field(default_factory=lambda: defaultdict(list))
    placed: list[cp_model.IntVar] = field(default_factory=list)
    by_team_date: dict[str, dict[int, list[cp_model.IntVar]]] = field(default_factory=dict)
    by_team_home: dict[str, dict[int, tuple[list, list]]] = field(default_factory=dict)
    # Auxiliary variables and how to compute each from the others' values (for complete hints).
    derived: list[tuple[cp_model.IntVar, Callable[[ValueOf], int]]] = field(default_factory=list)
    terms: list[rules.PenaltyTerm] = field(default_factory=list)
    fixed: dict[int, tuple[int, int] | None] = field(default_factory=dict)  # games outside the neighbourhood
    _options: dict[int, list] = field(default_factory=lambda: defaultdict(list))

    def options(self, g: int) -> list[tuple[tuple[int, int, int], cp_model.IntVar]]:
        return self._options[g]

    def day_of(self, g: int) -> cp_model.LinearExprT:
        """The date index of game g (0 when unplaced)."""
        if g in self.fixed:
            return self.fixed[g][0] if self.fixed[g] else 0
        return sum(j * x for (_, j, _), x in self._options[g])

    def is_free(self, g: int) -> bool:
        return g not in self.fixed


def candidates(cal: Calendar, game: Game) -> list[tuple[int, int]]:
    """(date index, side) pairs game can take: both teams free, fixed date and home side if given."""
    sides = [0, 1]
    dates = range(len(cal.dates))
    if game.fixed is not None:
        sides = [0 if game.fixed.home == game.a else 1]
        j = cal.index.get(game.fixed.date)
        dates = [j] if j is not None else []
    return [
        (j, s)
        for j in dates
        for s in sides
        if cal.team_free(game.a, cal.dates[j]) and cal.team_free(game.b, cal.dates[j])
    ]


def build(
    inp: Input, games: list[Game] | None = None, free: set[int] | None = None, fixed: Plan | None = None
) -> tuple[cp_model.CpModel, DateVars]:
    """The date model of `inp` (choosing the pairings first when `games` is not given).

    With `free`, only those games get variables (a neighbourhood); the others keep their date and
    side from `fixed` (or stay unplaced) and enter the rules as constants.
    """
    cal = Calendar(inp)
    games = choose(inp, cal) if games is None else games
    free = set(range(len(games))) if free is None else free
    fixed = fixed or {}
    model = Model()
    model.name = "league_dates"
    v = DateVars(inp, cal, games)
    v.by_team_date = {t.id: defaultdict(list) for t in inp.teams()}
    v.by_team_home = {t.id: defaultdict(lambda: ([], [])) for t in inp.teams()}
    for g, game in enumerate(games):
        if g not in free:
            _add_fixed(v, g, fixed.get(g))
            continue
        for j, s in candidates(cal, game):
            x = model.new_bool_var(f"{game.id}_d{j}_s{s}")
            v.x[g, j, s] = x
            v.by_game[g].append(x)
            v._options[g].append(((g, j, s), x))
            _add_to_teams(v, game, j, s, x)
        placed = model.new_bool_var(f"{game.id}_placed")
        v.placed.append(placed)
        v.derived.append((placed, lambda value, g=g: sum(value(x) for x in v.by_game[g])))
    for add_hard_rule in rules.HARD:
        add_hard_rule(model, v)
    for add_soft_rule in rules.SOFT:
        v.terms += add_soft_rule(model, v)
    objective = cp_model.LinearExpr.weighted_sum([e for _, e, _ in v.terms], [w for _, _, w in v.terms])
    # Every term is a penalty >= 0, but CP-SAT's bound stays far below 0 here (the "unplaced" literals
    # enter as 1 - placed): saying so lets a neighbourhood that reaches cost 0 stop as OPTIMAL at once.
    model.add(objective >= 0)
    model.minimize(objective)
    return model, v


def _add_to_teams(v: DateVars, game: Game, j: int, s: int, x: cp_model.IntVar | int) -> None:
    home, away = (game.a, game.b) if s == 0 else (game.b, game.a)
    v.by_team_date[home][j].append(x)
    v.by_team_date[away][j].append(x)
    v.by_team_home[home][j][0].append(x)
    v.by_team_home[away][j][1].append(x)


def _add_fixed(v: DateVars, g: int, where: tuple[int, int] | None) -> None:
    """A game outside the neighbourhood: its date and side are constants (1 = plays) in every rule."""
    v.placed.append(int(where is not None))
    v.fixed[g] = where
    if where is not None:
        _add_to_teams(v, v.games[g], where[0], where[1], 1)


def plan_of(v: DateVars, value: ValueOf) -> Plan:
    """The dates and home sides in a solution of the date model (fixed games included)."""
    plan = {g: where for g, where in v.fixed.items() if where is not None}
    plan.update({g: (j, s) for (g, j, s), x in v.x.items() if value(x)})
    return plan


def hint_plan(model: cp_model.CpModel, v: DateVars, plan: Plan) -> dict[int, int]:
    """Hint every variable from `plan` (x values, then each auxiliary computed from them); the values."""
    chosen = {(g, j, s) for g, (j, s) in plan.items()}
    values: dict[int, int] = {}
    for key, x in v.x.items():
        values[x.index] = int(key in chosen)
        model.add_hint(x, values[x.index])
    for var, compute in v.derived:  # in creation order: each reads only variables made before it
        values[var.index] = compute(lambda e: e if isinstance(e, int) else values[e.index])
        model.add_hint(var, values[var.index])
    return values


def objective_of(model: cp_model.CpModel, v: DateVars, plan: Plan) -> int:
    """The date model's objective for `plan` (used to tell whether a neighbourhood improved)."""
    values = hint_plan(Model(), v, plan)
    total = 0
    for _, expr, weight in v.terms:
        if isinstance(expr, int):
            total += weight * expr
        elif expr.index >= 0:
            total += weight * values[expr.index]
        else:  # a negated literal: not(x)
            total += weight * (1 - values[expr.negated().index])
    return total


def plan_from_solution(cal: Calendar, games: list[Game], solution: dict | None) -> Plan:
    """The plan of a stored schedule (e.g. a checkpoint), matched by pairing; {} if it does not fit."""
    rows = solution.get("games") if isinstance(solution, dict) else None
    if not isinstance(rows, list):
        return {}
    by_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        if isinstance(row, dict) and {"home", "away", "date"} <= row.keys():
            by_pair[tuple(sorted((row["home"], row["away"])))].append(row)
    mine: dict[tuple[str, str], list[int]] = defaultdict(list)
    for g, game in enumerate(games):
        mine[game.a, game.b].append(g)
    if {k: len(x) for k, x in mine.items()} != {k: len(x) for k, x in by_pair.items()}:
        return {}
    plan: Plan = {}
    for pair, gs in mine.items():
        rows = sorted(by_pair[pair], key=lambda r: (r["date"] is None, r["date"] or ""))
        matched: list[tuple[int, dict]] = []
        for g in gs:  # a fixed game takes the row on its date; the others follow in date order
            f = games[g].fixed
            row = f and next((r for r in rows if (r["home"], r["date"]) == (f.home, f.date.isoformat())), None)
            if row:
                rows.remove(row)
                matched.append((g, row))
        rest = [g for g in gs if g not in dict(matched)]
        for g, row in matched + list(zip(rest, rows, strict=True)):
            j = cal.index.get(_date(row["date"]))
            if j is not None:
                plan[g] = (j, 0 if row["home"] == games[g].a else 1)
    return plan


def _date(text: object) -> object:
    try:
        return dt.date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
