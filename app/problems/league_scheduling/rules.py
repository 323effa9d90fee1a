"""Stage 2 rules, one function each: on which date each game is played, and who is at home.

Hard rules add constraints every schedule satisfies; soft rules return penalty terms (rule key,
expression >= 0, weight) that the objective adds up. A game may stay unplaced (at a high cost), so
the date model always has a solution and an organiser always gets a schedule plus the list of what
could not be placed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

if TYPE_CHECKING:
    from app.problems.league_scheduling.model import DateVars

PenaltyTerm = tuple[str, cp_model.LinearExprT, int]


# --- hard rules -----------------------------------------------------------------------------------


def add_each_game_once(model: cp_model.CpModel, v: DateVars) -> None:
    """Every game is played at most once: on one date, with one team at home."""
    for g in range(len(v.games)):
        if v.is_free(g):
            model.add(v.placed[g] == sum(v.by_game.get(g, [])))


def add_rest_days(model: cp_model.CpModel, v: DateVars) -> None:
    """A team plays at most one game a day, and rests the minimum number of days between two games."""
    rule = v.inp.rules.min_rest_days
    rest = rule.value if rule.on else 0
    dates = v.cal.dates
    for per_date in v.by_team_date.values():
        for i, day in enumerate(dates):
            window = [x for j in range(i, len(dates)) if (dates[j] - day).days <= rest for x in per_date.get(j, [])]
            if len(window) > 1 and _has_vars(window):
                if all(isinstance(x, int) for x in window) or not any(isinstance(x, int) for x in window):
                    model.add_at_most_one(window)
                else:  # a game outside the neighbourhood occupies the window
                    model.add(sum(window) <= 1)


def add_games_per_week(model: cp_model.CpModel, v: DateVars) -> list[PenaltyTerm]:
    """A team plays at most N games in a week (Monday to Sunday)."""
    rule = v.inp.rules.max_games_per_week
    if not rule.on:
        return []
    weeks: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, day in enumerate(v.cal.dates):
        weeks[v.cal.week(day)].append(j)
    terms: list[PenaltyTerm] = []
    for team, per_date in v.by_team_date.items():
        for week, days in weeks.items():
            played = [x for j in days for x in per_date.get(j, [])]
            if len(played) <= rule.value or not _has_vars(played):
                continue
            if rule.hard:
                model.add(sum(played) <= rule.value)
            else:
                excess = model.new_int_var(0, len(played), f"week_excess_{team}_{week[1]}")
                model.add(excess >= sum(played) - rule.value)
                v.derived.append((excess, lambda value, p=played: max(0, sum(map(value, p)) - rule.value)))
                terms.append(("max_games_per_week", excess, rule.weight))
    return terms


def add_date_capacity(model: cp_model.CpModel, v: DateVars) -> None:
    """No more games on a date than there are slots (fields x kick-offs) open that day."""
    per_date: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for (_, j, _), x in v.x.items():
        per_date[j].append(x)
    used = defaultdict(int)
    for where in v.fixed.values():
        if where is not None:
            used[where[0]] += 1
    for j, xs in per_date.items():
        cap = v.cal.capacity(v.cal.dates[j]) - used[j]
        if len(xs) > cap:
            model.add(sum(xs) <= cap)


def add_home_split(model: cp_model.CpModel, v: DateVars) -> None:
    """When a pair meets more than once, each team hosts its share (a double round robin: one each)."""
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for g, game in enumerate(v.games):
        by_pair[game.a, game.b].append(g)
    for games in by_pair.values():
        if len(games) < 2 or not any(v.is_free(g) for g in games):
            continue
        share = -(-len(games) // 2)
        for side in (0, 1):
            done = sum(1 for g in games if v.fixed.get(g) and v.fixed[g][1] == side)
            model.add(sum(x for g in games for (_, _, s), x in v.options(g) if s == side) + done <= share)


def add_consecutive_home_away(model: cp_model.CpModel, v: DateVars) -> None:
    """No team plays more than N home games (or N away games) in a row."""
    rule = v.inp.rules.max_consecutive_home_away
    if not rule.on:
        return
    n = max(1, rule.value)
    # run[j] >= the length of the current home (away) run after date j, capped at n: it grows by one
    # with a home game, holds on a free date and may drop to 0 after an away game. Linear, so the LP
    # sees it; an automaton said the same but cost seconds of presolve and a useless bound.
    for team, per_date in v.by_team_home.items():
        days = sorted(per_date)
        games = [x for j in days for x in per_date[j][0] + per_date[j][1]]
        if len(games) <= n or not _has_vars(games):
            continue
        for mine, other, kind in ((0, 1, "home"), (1, 0, "away")):
            before: cp_model.IntVar | int = 0
            for j in days:
                same, flip = sum(per_date[j][mine]), sum(per_date[j][other])
                run = model.new_int_var(0, n, f"{kind}_run_{team}_{j}")
                model.add(run >= before + same - n * flip)
                v.derived.append((run, _run_value(before, per_date[j][mine], per_date[j][other])))
                before = run


def _run_value(before, same: list, flip: list):
    def value_of(value) -> int:
        if sum(map(value, flip)):
            return 0
        return value(before) + sum(map(value, same))

    return value_of


def add_no_early_repeats(model: cp_model.CpModel, v: DateVars) -> None:
    """No pairing of a division is repeated before every pairing of the division has been played."""
    if not v.inp.rules.no_early_repeats.on:
        return
    levels: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for g, game in enumerate(v.games):
        if game.division is not None:
            levels[game.division][game.meeting].append(g)
    last = len(v.cal.dates) - 1
    for division, by_meeting in levels.items():
        if not any(v.is_free(g) for gs in by_meeting.values() for g in gs):
            continue
        for m in range(1, max(by_meeting) + 1):
            # Every meeting m-1 is played on or before `split`, every meeting m after it.
            split = model.new_int_var(-1, last, f"split_{division}_{m}")
            before = by_meeting.get(m - 1, [])
            v.derived.append((split, lambda value, b=before: max((_day(v, g, value) for g in b), default=-1)))
            for g in by_meeting.get(m - 1, []):
                model.add(v.day_of(g) <= split)
            for g in by_meeting.get(m, []):
                if v.is_free(g):
                    model.add(v.day_of(g) >= split + 1).only_enforce_if(v.placed[g])
                elif v.placed[g]:
                    model.add(v.day_of(g) >= split + 1)


def _day(v: DateVars, g: int, value) -> int:
    if not v.is_free(g):
        return v.day_of(g)
    return sum(j * value(x) for (_, j, _), x in v.options(g))


def _has_vars(xs: list) -> bool:
    return any(not isinstance(x, int) for x in xs)


# --- soft rules -----------------------------------------------------------------------------------


def add_unplaced(model: cp_model.CpModel, v: DateVars) -> list[PenaltyTerm]:
    """Every game gets a date (a game left out costs a lot)."""
    rule = v.inp.rules.unplaced
    return [("unplaced", v.placed[g].Not(), rule.weight) for g in range(len(v.games)) if v.is_free(g)]


def add_home_away_balance(model: cp_model.CpModel, v: DateVars) -> list[PenaltyTerm]:
    """Each team plays about as many home games as away games (one apart is fine)."""
    rule = v.inp.rules.home_away_balance
    if not rule.on or not rule.weight:
        return []
    terms: list[PenaltyTerm] = []
    for team, per_date in v.by_team_home.items():
        home = [x for h, _ in per_date.values() for x in h]
        away = [x for _, a in per_date.values() for x in a]
        if not _has_vars(home + away):
            continue
        diff = sum(home) - sum(away)
        dev = model.new_int_var(0, len(home) + len(away), f"imbalance_{team}")
        model.add(dev >= diff - 1)
        model.add(dev >= -diff - 1)
        v.derived.append((dev, lambda value, h=home, a=away: max(0, abs(sum(map(value, h)) - sum(map(value, a))) - 1)))
        terms.append(("home_away_balance", dev, rule.weight))
    return terms


def add_home_venue(model: cp_model.CpModel, v: DateVars) -> list[PenaltyTerm]:
    """Home games are played at the home team's venue (when more are due there than it has slots, some move)."""
    rule = v.inp.rules.home_venue
    if not rule.on or not rule.weight:
        return []
    demand: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    for (g, j, s), x in v.x.items():
        game = v.games[g]
        venue = v.cal.team_venue[game.a if s == 0 else game.b]
        if venue is not None:
            demand[venue, j].append(x)
    terms: list[PenaltyTerm] = []
    for (venue, j), xs in demand.items():
        cap = v.cal.capacity(v.cal.dates[j], venue)
        if len(xs) > cap and _has_vars(xs):
            over = model.new_int_var(0, len(xs), f"overflow_{venue}_{j}")
            model.add(over >= sum(xs) - cap)
            v.derived.append((over, lambda value, xs=xs, cap=cap: max(0, sum(map(value, xs)) - cap)))
            terms.append(("home_venue", over, rule.weight))
    return terms


HARD = [
    add_each_game_once,
    add_rest_days,
    add_date_capacity,
    add_home_split,
    add_consecutive_home_away,
    add_no_early_repeats,
]
SOFT = [add_unplaced, add_games_per_week, add_home_away_balance, add_home_venue]
