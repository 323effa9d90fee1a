"""Stage 1, who plays whom: the list of games the season must hold.

Round robins fix their games outright. "k games per team" leaves a choice of opponents, made by a
small CP-SAT model over the pairs of each division (a few hundred variables for 200 teams) that
prefers opponents who are near and who share many free dates. Deciding the pairings first keeps the
date model free of "does this pair meet at all" variables, which is what made the one-big-model
approach blow up (one Boolean per date and ordered pair).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import Model
from app.problems.league_scheduling.schema import FixedGame, Input
from app.problems.league_scheduling.season import Calendar

# (model, extract) -> solution dict or None: a plain CP-SAT solve, or the run's ctx.solve.
Solve = Callable[[cp_model.CpModel, Callable[[Any], dict]], dict | None]


@dataclass(frozen=True)
class Game:
    id: str
    division: str | None  # None for a cross-division game
    a: str  # the two teams; which one is home is decided with the date
    b: str
    meeting: int  # 0 for the pair's first game, 1 for the second...
    fixed: FixedGame | None = None


class PairingsInfeasible(ValueError):
    """No choice of opponents gives every team its number of games (e.g. too many forbidden pairings)."""


def plain_solve(model: cp_model.CpModel, extract: Callable[[Any], dict]) -> dict | None:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5
    solver.parameters.num_workers = 1  # deterministic
    status = solver.solve(model)
    return extract(solver.value) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def choose(inp: Input, cal: Calendar, solve: Solve = plain_solve) -> list[Game]:
    """Every game of the season; raises PairingsInfeasible if games_per_team cannot be met."""
    forbidden = {pair_key(*p.teams) for p in inp.forbidden_pairings}
    fixed_by_pair: dict[tuple[str, str], list[FixedGame]] = {}
    for fixed in inp.fixed_games:
        fixed_by_pair.setdefault(pair_key(fixed.home, fixed.away), []).append(fixed)
    counts = _division_counts(inp, cal, forbidden, fixed_by_pair, solve)
    for pairing in inp.cross_division_games:
        key = pair_key(*pairing.teams)
        counts[key] = (None, counts.get(key, (None, 0))[1] + 1)
    for key, fixed in fixed_by_pair.items():  # fixed games beyond what the formats ask for are extra games
        division, n = counts.get(key, (None, 0))
        if n < len(fixed):
            same = cal.division_of[key[0]] == cal.division_of[key[1]]
            counts[key] = (division or (cal.division_of[key[0]] if same else None), len(fixed))
    return _games(counts, fixed_by_pair)


def _games(counts: dict, fixed_by_pair: dict[tuple[str, str], list[FixedGame]]) -> list[Game]:
    games: list[Game] = []
    for (a, b), (division, n) in sorted(counts.items()):
        pinned = fixed_by_pair.get((a, b), [])
        for m in range(n):
            games.append(Game(f"g{len(games) + 1:04d}", division, a, b, m, pinned[m] if m < len(pinned) else None))
    return games


def from_schedule(inp: Input, cal: Calendar, solution: dict | None) -> list[Game] | None:
    """The games of a stored schedule (a checkpoint: already checked), so a resumed run keeps its pairings.

    Stage 1 can pick other, equally good opponents on another attempt; the checkpoint's dates only fit
    its own pairings.
    """
    rows = solution.get("games") if isinstance(solution, dict) else None
    if not isinstance(rows, list) or not rows:
        return None
    cross = {pair_key(*p.teams) for p in inp.cross_division_games}
    counts: dict[tuple[str, str], tuple[str | None, int]] = {}
    for row in rows:
        if (
            not isinstance(row, dict)
            or row.get("home") not in cal.division_of
            or row.get("away") not in cal.division_of
        ):
            return None
        key = pair_key(row["home"], row["away"])
        same = cal.division_of[key[0]] == cal.division_of[key[1]] and key not in cross
        counts[key] = (cal.division_of[key[0]] if same else None, counts.get(key, (None, 0))[1] + 1)
    fixed_by_pair: dict[tuple[str, str], list[FixedGame]] = {}
    for fixed in inp.fixed_games:
        fixed_by_pair.setdefault(pair_key(fixed.home, fixed.away), []).append(fixed)
    return _games(counts, fixed_by_pair)


def _division_counts(inp, cal, forbidden, fixed_by_pair, solve) -> dict[tuple[str, str], tuple[str | None, int]]:
    counts: dict[tuple[str, str], tuple[str | None, int]] = {}
    chosen = [d for d in inp.divisions if d.games_per_team is not None]
    for div in inp.divisions:
        if div.round_robin is not None:
            for a, b in itertools.combinations(sorted(t.id for t in div.teams), 2):
                if (a, b) not in forbidden:
                    counts[a, b] = (div.id, div.round_robin)
    for div in chosen:  # divisions are independent here: many tiny solves beat one bigger one
        counts.update(_chosen_pairs(inp, cal, [div], forbidden, fixed_by_pair, solve))
    return counts


def _chosen_pairs(inp, cal, divisions, forbidden, fixed_by_pair, solve) -> dict:
    """CP-SAT picks how often each pair meets so each team plays k games (one team k-1 if n*k is odd)."""
    model = Model()
    meets: dict[tuple[str, str], tuple[str, cp_model.IntVar]] = {}
    cost = []
    for div in divisions:
        n, k = len(div.teams), div.games_per_team
        ids = sorted(t.id for t in div.teams)
        most = -(-k // (n - 1))  # pairings spread evenly: no pair meets twice before all met once
        least = k // (n - 1)
        for a, b in itertools.combinations(ids, 2):
            pinned = len(fixed_by_pair.get((a, b), []))
            hi = 0 if (a, b) in forbidden else max(most, pinned)
            lo = min(hi, max(least if (a, b) not in forbidden else 0, pinned))
            var = model.new_int_var(lo, hi, f"meet_{a}_{b}")
            meets[a, b] = (div.id, var)
            cost.append(_pair_cost(cal, a, b) * var)
        for t in ids:
            degree = sum(meets[pair_key(t, o)][1] for o in ids if o != t)
            model.add(degree <= k)
            model.add(degree >= k - 1)
        total = sum(meets[a, b][1] for a, b in itertools.combinations(ids, 2))
        model.add(total == (n * k) // 2)
    model.minimize(sum(cost))
    values = solve(model, lambda value: {f"{a}|{b}": value(var) for (a, b), (_, var) in meets.items()})
    if values is None:
        raise PairingsInfeasible("no choice of opponents gives every team its games_per_team")
    return {(a, b): (div, values[f"{a}|{b}"]) for (a, b), (div, _) in meets.items() if values[f"{a}|{b}"]}


def _pair_cost(cal: Calendar, a: str, b: str) -> int:
    """Prefer near opponents and pairs with free dates in common (a pair with none can never play)."""
    common = sum(1 for d in cal.dates if cal.team_free(a, d) and cal.team_free(b, d))
    return round(cal.distance_km(cal.team_venue[a], cal.team_venue[b]) / 10) + (1000 if common == 0 else 0)
