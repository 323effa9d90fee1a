"""League scheduling: a season of fixtures for divisions of teams, on dates, venues, fields and kick-offs.

Three stages (see search.py for why): who plays whom (games.py), the date and home side of each game
(model.py, rules.py; a greedy season from construct.py to start from), and the venue, field and
kick-off (slots.py). check.py re-verifies every schedule in plain Python.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from app.problems import register
from app.problems.base import Export, ProblemType, Rule
from app.problems.league_scheduling import model, slots
from app.problems.league_scheduling.check import check
from app.problems.league_scheduling.demo import demo
from app.problems.league_scheduling.pages import games_csv, league_ics, page_context, teams_zip
from app.problems.league_scheduling.schema import Input, validate
from app.problems.league_scheduling.search import search
from app.problems.league_scheduling.season import Calendar


def summary(inp: Input) -> dict[str, int]:
    """Size facts for run lists, e.g. {"teams": 200, "divisions": 25, "venues": 40}."""
    return {"teams": len(inp.teams()), "divisions": len(inp.divisions), "venues": len(inp.venues)}


def estimate(inp: Input) -> dict[str, int]:
    """Date-model size from the formats alone: games x playing dates x 2 sides (an upper bound)."""
    n_games = 0
    for div in inp.divisions:
        n = len(div.teams)
        n_games += n * (n - 1) // 2 * div.round_robin if div.round_robin else n * div.games_per_team // 2
    n_games += len(inp.cross_division_games) + len(inp.fixed_games)
    dates, teams = len(Calendar(inp).dates), len(inp.teams())
    # (game, date, side) choices and each game's "placed"; per team and date two run counters; per team,
    # week and venue a few penalty counters. Constraints: per team and date a rest window, two runs, a week.
    variables = n_games * (dates * 2 + 1) + teams * (dates * 2 + 1) + len(inp.venues) * dates + teams * dates // 2
    return {"variables": variables, "constraints": teams * dates * 4 + n_games * 3 + dates * 2}


def extract(inp: Input, v: model.DateVars, value: Any) -> dict:
    """The schedule of a date-model solution, slots filled greedily (the default, single-model path)."""
    plan = model.plan_of(v, value)
    return slots.schedule(v.cal, v.games, plan, slots.greedy(v.cal, v.games, plan))


def hint(cp_model: Any, v: model.DateVars, inp: Input, solution: dict) -> None:
    model.hint_plan(cp_model, v, model.plan_from_solution(v.cal, v.games, solution))


RULES = [
    Rule("unplaced", "Games without a date"),
    Rule("max_games_per_week", "Too many games in a week"),
    Rule("home_away_balance", "Home/away imbalance"),
    Rule("home_venue", "Home games away from the home venue"),
    Rule("fair_kickoffs", "Always the earliest or latest kick-off"),
    Rule("travel", "Travel (per 10 km)"),
]

PROBLEM = register(
    ProblemType(
        name="league_scheduling",
        title="League scheduling",
        description="Schedule a season of fixtures for divisions of teams: who plays whom, on which date, "
        "at which venue, field and kick-off, within blackouts and rest rules, fair on home games and kick-offs.",
        input_model=Input,
        validate=validate,
        # No CSV importer: a season needs dates, venues with kick-offs and teams with blackouts, which
        # one flat CSV cannot carry without inventing a multi-table dialect; the JSON is the format.
        importers={},
        demos={name: partial(demo, name) for name in ("small", "medium", "200_teams")},
        build=lambda inp: model.build(inp),
        extract=extract,
        hint=hint,
        check=check,
        rules=RULES,
        summary=summary,
        search=search,
        estimate=estimate,
        page_context=page_context,
        exports=[
            Export("games.csv", "Games (CSV)", "text/csv", games_csv),
            Export("league.ics", "League calendar (.ics)", "text/calendar", league_ics),
            Export("teams-ics.zip", "A calendar per team (.ics, zipped)", "application/zip", teams_zip),
        ],
    )
)

__all__ = ["PROBLEM", "Input", "check", "demo", "extract", "hint", "search", "summary", "validate"]
