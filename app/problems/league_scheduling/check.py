"""The independent checker: re-verifies a league schedule in plain Python, without OR-Tools.

It shares no code with the models (only the input and its calendar of dates and slots), so a bug
in one is caught by the other. It recounts which games the formats require, re-checks every hard
rule game by game, and recomputes each soft penalty with the team, the date and the reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from typing import Any

from app.problems.base import Check, Penalty
from app.problems.league_scheduling.reasons import why_unplaced
from app.problems.league_scheduling.schema import Input
from app.problems.league_scheduling.season import Calendar

WHICH = {"early": "first", "late": "last"}
GAME_KEYS = ("id", "home", "away", "date", "kickoff", "venue", "field")


def check(inp: Input, solution: Any) -> Check:
    """Every hard rule broken and every soft penalty paid by `solution` ({"games": [...]})."""
    cal = Calendar(inp)
    games, problems = _read(inp, cal, solution)
    if problems:  # the other checks would only repeat the same mistake in other words
        return Check(violations=problems)
    result = Check()
    placed = [g for g in games if g["date"] is not None]
    result.violations += _game_set(inp, cal, games)
    result.violations += _slots(cal, placed)
    result.violations += _team_rules(inp, cal, placed)
    result.violations += _early_repeats(inp, placed)
    result.violations += _fixed(inp, placed)
    result.penalties = _penalties(inp, cal, games, placed)
    return result


def _read(inp: Input, cal: Calendar, solution: Any) -> tuple[list[dict], list[str]]:
    """The games with parsed dates, or what makes the schedule unreadable."""
    rows = solution.get("games") if isinstance(solution, dict) else None
    if not isinstance(rows, list):
        return [], ['the solution has no "games" list']
    teams = set(cal.team_venue)
    out, problems = [], []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or any(k not in row for k in GAME_KEYS):
            problems.append(f"game {i} lacks one of {', '.join(GAME_KEYS)}")
            continue
        if row["home"] not in teams or row["away"] not in teams or row["home"] == row["away"]:
            problems.append(f"game {row['id']} has unknown or equal teams {row['home']!r}, {row['away']!r}")
            continue
        game = dict(row)
        if row["date"] is not None:
            try:
                game["date"] = dt.date.fromisoformat(row["date"])
            except (TypeError, ValueError):
                problems.append(f"game {row['id']} has a bad date {row['date']!r}")
                continue
        out.append(game)
    return out, problems


def _pair(game: dict) -> tuple[str, str]:
    return tuple(sorted((game["home"], game["away"])))  # type: ignore[return-value]


def _game_set(inp: Input, cal: Calendar, games: list[dict]) -> list[str]:
    """The right games exist: round robins complete, games_per_team met, extras present, no forbidden pair."""
    out: list[str] = []
    meets = Counter(_pair(g) for g in games)
    forbidden = {tuple(sorted(p.teams)) for p in inp.forbidden_pairings}
    extra = Counter(tuple(sorted(p.teams)) for p in inp.cross_division_games)
    fixed = Counter(tuple(sorted((f.home, f.away))) for f in inp.fixed_games)
    for pair in sorted(forbidden):
        if meets[pair] > fixed[pair]:
            out.append(f"{pair[0]} and {pair[1]} meet although the pairing is forbidden")
    for div in inp.divisions:
        ids = sorted(t.id for t in div.teams)
        pairs = list(itertools.combinations(ids, 2))
        if div.round_robin is not None:
            for pair in pairs:
                want = 0 if pair in forbidden else div.round_robin
                want = max(want + extra[pair], fixed[pair])
                if meets[pair] != want:
                    out.append(f"{pair[0]} and {pair[1]} meet {meets[pair]} time(s), the round robin needs {want}")
            continue
        k = div.games_per_team
        inside = {p: meets[p] - extra[p] for p in pairs}
        for t in ids:
            n = sum(c for p, c in inside.items() if t in p)
            if not k - 1 <= n <= k:
                out.append(f"{t} plays {n} division games, games_per_team is {k}")
        if sum(inside.values()) != len(ids) * k // 2:
            out.append(f"division {div.id} has {sum(inside.values())} games, expected {len(ids) * k // 2}")
    divisions = {p for d in inp.divisions for p in itertools.combinations(sorted(t.id for t in d.teams), 2)}
    for pair, n in meets.items():
        if pair not in divisions and n != max(extra[pair], fixed[pair]):
            out.append(f"{pair[0]} and {pair[1]} (different divisions) meet {n} time(s), expected {extra[pair]}")
    return out


def _slots(cal: Calendar, placed: list[dict]) -> list[str]:
    """Each placed game is on a playable date, in an open slot, alone in it, with both teams free."""
    out: list[str] = []
    used: dict[tuple, str] = {}
    playable = set(cal.dates)
    for g in placed:
        day = g["date"]
        if day not in playable:
            out.append(f"game {g['id']} is on {day}, not a playing date of the season")
            continue
        for side in ("home", "away"):
            if not cal.team_free(g[side], day):
                out.append(f"{g[side]} plays game {g['id']} on {day}, a blackout date of the team")
        open_slots = {(s.venue, s.field, s.kickoff) for s in cal.slots_on(day)}
        key = (g["venue"], g["field"], g["kickoff"])
        if key not in open_slots:
            out.append(f"game {g['id']}: {g['venue']} field {g['field']} has no kick-off at {g['kickoff']} on {day}")
        if (day, *key) in used:
            where = f"{g['venue']} field {g['field']} at {g['kickoff']} on {day}"
            out.append(f"games {used[day, *key]} and {g['id']} share {where}")
        used[day, *key] = g["id"]
    return out


def _team_games(placed: list[dict]) -> dict[str, list[dict]]:
    by_team: dict[str, list[dict]] = defaultdict(list)
    for g in sorted(placed, key=lambda g: g["date"]):
        by_team[g["home"]].append(g)
        by_team[g["away"]].append(g)
    return by_team


def _team_rules(inp: Input, cal: Calendar, placed: list[dict]) -> list[str]:
    """Per team: one game a day, rest days, games per week (when hard), home/away runs, shared hosting."""
    r = inp.rules
    rest = r.min_rest_days.value if r.min_rest_days.on else 0
    out: list[str] = []
    for team, games in sorted(_team_games(placed).items()):
        for a, b in zip(games, games[1:], strict=False):
            gap = (b["date"] - a["date"]).days
            if gap == 0:
                out.append(f"{team} plays twice on {a['date']} (games {a['id']} and {b['id']})")
            elif gap <= rest:
                out.append(f"{team} plays on {a['date']} and {b['date']}: fewer than {rest} rest day(s) between")
        if r.max_games_per_week.on and r.max_games_per_week.hard:
            for week, n in Counter(cal.week(g["date"]) for g in games).items():
                if n > r.max_games_per_week.value:
                    out.append(
                        f"{team} plays {n} games in week {week[1]} of {week[0]} (max {r.max_games_per_week.value})"
                    )
        if r.max_consecutive_home_away.on:
            out += _runs(team, games, r.max_consecutive_home_away.value)
    hosts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for g in placed:
        hosts[_pair(g)][g["home"]] += 1
    for pair, counts in hosts.items():
        total = sum(counts.values())
        for team in pair:
            if counts[team] > -(-total // 2):
                out.append(f"{team} hosts {counts[team]} of its {total} games against the same opponent")
    return out


def _runs(team: str, games: list[dict], limit: int) -> list[str]:
    out, run = [], 0
    for i, g in enumerate(games):
        side = g["home"] == team
        run = run + 1 if i and (games[i - 1]["home"] == team) == side else 1
        if run == limit + 1:
            where = "home" if side else "away"
            out.append(f"{team} plays {run} {where} games in a row up to {g['date']} (max {limit})")
    return out


def _early_repeats(inp: Input, placed: list[dict]) -> list[str]:
    """Within a division, meeting m of any pair comes after every pair's meeting m-1."""
    if not inp.rules.no_early_repeats.on:
        return []
    division = {t.id: d.id for d in inp.divisions for t in d.teams}
    out: list[str] = []
    by_div: dict[str, list[dict]] = defaultdict(list)
    for g in placed:
        if division[g["home"]] == division[g["away"]]:
            by_div[division[g["home"]]].append(g)
    for div, games in by_div.items():
        seen: Counter = Counter()
        level: dict[str, int] = {}
        for g in sorted(games, key=lambda g: (g["date"], g["id"])):
            level[g["id"]] = seen[_pair(g)]
            seen[_pair(g)] += 1
        last = defaultdict(lambda: dt.date.min)
        for g in games:
            last[level[g["id"]]] = max(last[level[g["id"]]], g["date"])
        for g in games:
            m = level[g["id"]]
            if m and g["date"] <= last[m - 1]:
                out.append(
                    f"{g['home']} v {g['away']} meet again on {g['date']} before every pairing of division {div} "
                    f"has played (until {last[m - 1]})"
                )
    return out


def _fixed(inp: Input, placed: list[dict]) -> list[str]:
    out: list[str] = []
    taken: set[str] = set()
    for f in inp.fixed_games:
        match = next(
            (
                g
                for g in placed
                if g["id"] not in taken
                and (g["home"], g["away"], g["date"]) == (f.home, f.away, f.date)
                and (f.venue is None or g["venue"] == f.venue)
                and (f.field is None or g["field"] == f.field)
                and (f.kickoff is None or g["kickoff"] == f.kickoff)
            ),
            None,
        )
        if match is None:
            out.append(f"fixed game {f.home} v {f.away} on {f.date} is not in the schedule as fixed")
        else:
            taken.add(match["id"])
    return out


def _penalties(inp: Input, cal: Calendar, games: list[dict], placed: list[dict]) -> list[Penalty]:
    r = inp.rules
    out: list[Penalty] = []
    by_team = _team_games(placed)
    for g in games:  # always counted: a schedule that drops games is never free
        if g["date"] is None:
            why = why_unplaced(inp, cal, g, by_team)
            out.append(Penalty("unplaced", r.unplaced.weight, f"{g['home']} v {g['away']}", detail=why, when="—"))
    if r.max_games_per_week.on and not r.max_games_per_week.hard:
        for team, tg in sorted(by_team.items()):
            for week, n in sorted(Counter(cal.week(g["date"]) for g in tg).items()):
                if n > r.max_games_per_week.value:
                    cost = r.max_games_per_week.weight * (n - r.max_games_per_week.value)
                    out.append(
                        Penalty(
                            "max_games_per_week",
                            cost,
                            team,
                            detail=f"{n} games in one week",
                            when=f"week {week[1]} of {week[0]}",
                        )
                    )
    out += _team_penalties(inp, cal, by_team)
    if r.travel.on and r.travel.weight:
        for g in placed:
            units = cal.travel_cost(g["venue"], g["home"], g["away"])
            if units:
                km = cal.distance_km(cal.team_venue[g["away"]], g["venue"])
                out.append(
                    Penalty(
                        "travel",
                        r.travel.weight * units,
                        g["away"],
                        detail=f"{g['home']} v {g['away']} at {g['venue']}: {round(km)} km for {g['away']}",
                        when=_when(g),
                    )
                )
    return out


def _team_penalties(inp: Input, cal: Calendar, by_team: dict[str, list[dict]]) -> list[Penalty]:
    r = inp.rules
    out: list[Penalty] = []
    rank = {(s.date, s.venue, s.field, s.kickoff): s.rank for d in cal.dates for s in cal.slots_on(d)}
    for team, games in sorted(by_team.items()):
        home = sum(g["home"] == team for g in games)
        away = len(games) - home
        if r.home_away_balance.on and abs(home - away) > 1:
            cost = r.home_away_balance.weight * (abs(home - away) - 1)
            out.append(Penalty("home_away_balance", cost, team, detail=f"{home} home, {away} away", when="season"))
        if r.home_venue.on and cal.team_venue[team] is not None:
            for g in games:
                if g["home"] == team and g["venue"] != cal.team_venue[team]:
                    out.append(
                        Penalty(
                            "home_venue",
                            r.home_venue.weight,
                            team,
                            when=_when(g),
                            detail=f"home game v {g['away']} at {g['venue']}, not {cal.team_venue[team]}",
                        )
                    )
        if r.fair_kickoffs.on:
            limit = int(r.fair_kickoffs.max_share * len(games))
            for which in ("early", "late"):
                n = sum(rank.get((g["date"], g["venue"], g["field"], g["kickoff"])) == which for g in games)
                if n > limit:
                    out.append(
                        Penalty(
                            "fair_kickoffs",
                            r.fair_kickoffs.weight * (n - limit),
                            team,
                            when="season",
                            detail=f"{n} of {len(games)} games at the day's {WHICH[which]} kick-off (max {limit})",
                        )
                    )
    return out


def _when(g: dict) -> str:
    return f"{g['date']} {g['kickoff']}"
