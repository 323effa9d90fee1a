"""A greedy date plan: a complete, valid schedule in well under a second, to start the search from.

CP-SAT alone starts from "nothing placed" (always feasible, as games may stay unplaced) and needs
many seconds of repair to place 630 games; this greedy places each game on the earliest date that
keeps every hard rule, so the run has a complete schedule at once and CP-SAT only improves it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from app.problems.league_scheduling.games import Game
from app.problems.league_scheduling.model import Plan, candidates
from app.problems.league_scheduling.season import Calendar


class _Teams:
    """What the greedy has given each team so far."""

    def __init__(self, cal: Calendar):
        self.cal = cal
        self.played: dict[str, dict[int, str]] = defaultdict(dict)  # team -> date index -> "H" or "A"
        self.home_minus_away: Counter = Counter()

    def can_play(self, team: str, j: int, side: str) -> bool:
        rules, dates = self.cal.inp.rules, self.cal.dates
        rest = rules.min_rest_days.value if rules.min_rest_days.on else 0
        mine = self.played[team]
        if any(abs((dates[k] - dates[j]).days) <= rest for k in mine):
            return False
        week = self.cal.week(dates[j])
        if (
            rules.max_games_per_week.on
            and sum(self.cal.week(dates[k]) == week for k in mine) >= rules.max_games_per_week.value
        ):
            return False
        if rules.max_consecutive_home_away.on:
            both = {**mine, j: side}
            seq = [both[k] for k in sorted(both)]
            if _longest_run(seq) > rules.max_consecutive_home_away.value:
                return False
        return True

    def add(self, team: str, j: int, side: str) -> None:
        self.played[team][j] = side
        self.home_minus_away[team] += 1 if side == "H" else -1


def _longest_run(seq: list[str]) -> int:
    best = run = 0
    for i, s in enumerate(seq):
        run = run + 1 if i and seq[i - 1] == s else 1
        best = max(best, run)
    return best


def greedy_plan(cal: Calendar, games: list[Game]) -> Plan:
    """Each game on the earliest date (and the home side) that keeps every hard rule; skipped if none."""
    teams = _Teams(cal)
    room = [cal.capacity(d) for d in cal.dates]
    venue_room = {(v.id, j): cal.capacity(d, v.id) for v in cal.inp.venues for j, d in enumerate(cal.dates)}
    after: dict[tuple[str | None, int], int] = defaultdict(lambda: -1)  # (division, meeting) -> last date used
    hosted: dict[tuple[str, str], Counter] = defaultdict(Counter)  # pair -> how often each team hosted
    options = {g: candidates(cal, game) for g, game in enumerate(games)}
    order = sorted(range(len(games)), key=lambda g: (games[g].fixed is None, games[g].meeting, len(options[g]), g))
    plan: Plan = {}
    early = cal.inp.rules.no_early_repeats.on
    for g in order:
        game = games[g]
        floor = after[game.division, game.meeting - 1] if early and game.division and game.meeting else -1
        best = None
        for j, s in options[g]:
            if j <= floor or room[j] == 0:
                continue
            home, away = (game.a, game.b) if s == 0 else (game.b, game.a)
            if hosted[game.a, game.b][home] >= -(-(game.meeting + 1) // 2):
                continue  # a repeated pairing alternates hosts
            if not (teams.can_play(home, j, "H") and teams.can_play(away, j, "A")):
                continue
            venue = cal.team_venue[home]
            key = (
                j,
                venue is not None and venue_room[venue, j] <= 0,
                teams.home_minus_away[home] - teams.home_minus_away[away],
            )
            if best is None or key < best[0]:
                best = (key, j, s)
        if best is None:
            continue
        _, j, s = best
        home, away = (game.a, game.b) if s == 0 else (game.b, game.a)
        plan[g] = (j, s)
        room[j] -= 1
        if cal.team_venue[home] is not None:
            venue_room[cal.team_venue[home], j] -= 1
        teams.add(home, j, "H")
        teams.add(away, j, "A")
        hosted[game.a, game.b][home] += 1
        after[game.division, game.meeting] = max(after[game.division, game.meeting], j)
    return plan
