"""Why a game could not be placed, in words an organiser can act on (which blackout or rule blocked it)."""

from __future__ import annotations

from collections import Counter

from app.problems.league_scheduling.schema import Input
from app.problems.league_scheduling.season import Calendar


def why_unplaced(inp: Input, cal: Calendar, game: dict, by_team: dict[str, list[dict]]) -> str:
    """For each playing date of the season, the first thing that rules it out; summarised by cause."""
    if not cal.dates:
        return "the season has no playing date (check weekdays, blackouts and venue kick-offs)"
    r = inp.rules
    rest = r.min_rest_days.value if r.min_rest_days.on else 0
    per_date = Counter(g["date"] for games in by_team.values() for g in games)  # each game counted twice
    causes: Counter = Counter()
    for day in cal.dates:
        causes[_blocker(inp, cal, game, by_team, day, rest, per_date[day] // 2)] += 1
    parts = [f"{why} on {n} date(s)" for why, n in causes.most_common()]
    return "no date works: " + "; ".join(parts)


def _blocker(inp: Input, cal: Calendar, game: dict, by_team, day, rest: int, used: int) -> str:
    for side in ("home", "away"):
        team = game[side]
        if not cal.team_free(team, day):
            return f"{team} blacked out"
    if used >= cal.capacity(day):
        return "no free slot left"
    r = inp.rules
    for side in ("home", "away"):
        team = game[side]
        games = by_team.get(team, [])
        if any(abs((g["date"] - day).days) <= rest for g in games):
            return f"{team} plays or rests"
        if r.max_games_per_week.on and r.max_games_per_week.hard:
            if sum(cal.week(g["date"]) == cal.week(day) for g in games) >= r.max_games_per_week.value:
                return f"{team} at its weekly limit"
    return "home/away runs or repeat order"
