"""The independent checker: the competition's deviation rules in plain Python, without OR-Tools.

It shares nothing with the CP-SAT model but the input. A schedule that is not a compact double round
robin (a team playing twice in a slot, a pair meeting twice at the same home, a phase broken) is
reported as such. Otherwise every constraint's deviation is computed exactly as the ITC2021
specification counts it; a HARD one with deviation > 0 is a violation, a SOFT one costs
penalty x deviation. Each finding names the constraint (index and class), the teams and the slots.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any

from app.problems.base import Check, Penalty
from app.problems.round_robin.schema import Input


class Timetable:
    """Who plays whom, where, in which slot: opp[t][s] and home[t][s] for every team t and slot s."""

    def __init__(self, n: int, num_slots: int, games: list[tuple[int, int, int]]):
        self.n, self.num_slots, self.games = n, num_slots, games
        self.opp = [[-1] * num_slots for _ in range(n)]
        self.home = [[False] * num_slots for _ in range(n)]
        self.slot_of: dict[tuple[int, int], int] = {}
        for h, a, s in games:
            self.opp[h][s], self.opp[a][s], self.home[h][s] = a, h, True
            self.slot_of[(h, a)] = s

    def breaks(self, team: int, slot: int) -> str | None:
        """'H' or 'A' if `team` has a break in `slot` (same venue as in the slot before), else None."""
        if slot == 0 or self.home[team][slot] != self.home[team][slot - 1]:
            return None
        return "H" if self.home[team][slot] else "A"


def check(inp: Input, solution: Any) -> Check:
    """Every hard constraint broken and every soft penalty paid by `solution` ({"games": [[h, a, s]...]})."""
    games, problems = read_games(inp, solution)
    if problems:
        return Check(violations=problems)
    tt = Timetable(inp.n, inp.num_slots, games)
    result = Check()
    for k, con in enumerate(inp.constraints):
        deviation, parts = DEVIATIONS[con.constraint](con, tt)
        if deviation == 0:
            continue
        teams, slots, detail = _describe(parts)
        label = f"constraint #{k} {con.constraint} ({con.type.lower()}): {detail}; deviation {deviation}"
        if con.type == "HARD":
            result.violations.append(label)
        elif con.penalty:
            who = "teams " + ", ".join(map(str, teams)) if teams else None
            when = "slots " + ", ".join(map(str, slots)) if slots else None
            result.penalties.append(Penalty(con.constraint, con.penalty * deviation, who=who, detail=label, when=when))
    if inp.distances is not None:
        result.penalties += travel_penalties(inp, tt)
    return result


def read_games(inp: Input, solution: Any) -> tuple[list[tuple[int, int, int]], list[str]]:
    """The games, or why they are not a compact double round robin of this input."""
    raw = solution.get("games") if isinstance(solution, dict) else None
    if not isinstance(raw, list):
        return [], ['the solution has no "games" (a list of [home, away, slot])']
    n, num_slots = inp.n, inp.num_slots
    games, problems = [], []
    for g in raw:
        ok = isinstance(g, list | tuple) and len(g) == 3 and all(isinstance(v, int) for v in g)
        if not ok or not (0 <= g[0] < n and 0 <= g[1] < n and g[0] != g[1] and 0 <= g[2] < num_slots):
            problems.append(f"not a game of this league: {g!r}")
            continue
        games.append((g[0], g[1], g[2]))
    if problems:
        return [], problems[:20]
    problems += _round_robin_problems(inp, games)
    return games, problems[:20]


def _round_robin_problems(inp: Input, games: list[tuple[int, int, int]]) -> list[str]:
    n, num_slots = inp.n, inp.num_slots
    problems = []
    played: dict[tuple[int, int], int] = {}
    busy: dict[tuple[int, int], int] = {}
    for h, a, s in games:
        played[(h, a)] = played.get((h, a), 0) + 1
        for t in (h, a):
            busy[(t, s)] = busy.get((t, s), 0) + 1
    for (h, a), times in played.items():
        if times > 1:
            problems.append(f"team {h} hosts team {a} {times} times")
    for (t, s), times in busy.items():
        if times > 1:
            problems.append(f"team {t} plays {times} games in slot {s}")
    problems += [
        f"team {h} never hosts team {a}" for h in range(n) for a in range(n) if h != a and (h, a) not in played
    ]
    if inp.phased and not problems:
        first = {frozenset((h, a)) for h, a, s in games if s < n - 1}
        if len(first) != n * (n - 1) // 2:
            problems.append(f"phased: the first {n - 1} slots do not form a single round robin")
    if not problems and len(games) != n * num_slots // 2:
        problems.append("wrong number of games")
    return problems


Part = tuple[int, list[int], list[int]]  # (deviation, teams, slots) of one counted unit


def _excess(count: int, con: Any) -> int:
    return max(0, con.min - count) + max(0, count - con.max)


def _plays(tt: Timetable, team: int, slot: int, others: set[int], mode: str) -> bool:
    """`team` plays a game of `mode` (H, A or HA, from its side) against one of `others` in `slot`."""
    opp = tt.opp[team][slot]
    if opp not in others:
        return False
    return mode == "HA" or (mode == "H") == tt.home[team][slot]


def _ca1(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    parts = []
    for t in con.teams:
        slots = [s for s in con.slots if tt.home[t][s] == (con.mode == "H")]
        if dev := _excess(len(slots), con):
            parts.append((dev, [t], slots))
    return sum(p[0] for p in parts), parts


def _ca2(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    others, parts = set(con.teams2), []
    for t in con.teams1:
        slots = [s for s in con.slots if _plays(tt, t, s, others, con.mode1)]
        if dev := _excess(len(slots), con):
            parts.append((dev, [t], slots))
    return sum(p[0] for p in parts), parts


def _ca3(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    others, parts = set(con.teams2), []
    for t in con.teams1:
        hits = [_plays(tt, t, s, others, con.mode1) for s in range(tt.num_slots)]
        for start in range(tt.num_slots - con.intp + 1):
            window = range(start, start + con.intp)
            if dev := _excess(sum(hits[s] for s in window), con):
                parts.append((dev, [t], [s for s in window if hits[s]]))
    return sum(p[0] for p in parts), parts


def _counts_ca4(mode: str, t1: set[int], t2: set[int], h: int, a: int) -> bool:
    """Game h-a counts for a CA4 of `mode`, seen from the side of teams1."""
    home_side = h in t1 and a in t2
    away_side = a in t1 and h in t2
    return home_side if mode == "H" else away_side if mode == "A" else home_side or away_side


def _ca4(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    t1, t2, slots = set(con.teams1), set(con.teams2), set(con.slots)
    per_slot: dict[int, list[tuple[int, int]]] = {s: [] for s in con.slots}
    for h, a, s in tt.games:
        if s in slots and _counts_ca4(con.mode1, t1, t2, h, a):
            per_slot[s].append((h, a))
    groups = [list(con.slots)] if con.mode2 == "GLOBAL" else [[s] for s in con.slots]
    parts = []
    for group in groups:
        games = [(g, s) for s in group for g in per_slot[s]]
        if dev := _excess(len(games), con):
            teams = sorted({t for g, _ in games for t in g})
            parts.append((dev, teams, sorted({s for _, s in games}) or group))
    return sum(p[0] for p in parts), parts


def _ga1(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    slots = set(con.slots)
    held = [(h, a) for h, a in con.meetings if tt.slot_of.get((h, a)) in slots]
    dev = _excess(len(held), con)
    teams = sorted({t for m in (held or con.meetings) for t in m})
    return dev, [(dev, teams, sorted(tt.slot_of[m] for m in held))] if dev else []


def _br1(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    parts = []
    for t in con.teams:
        slots = [s for s in con.slots if (b := tt.breaks(t, s)) and (con.mode2 == "HA" or b == con.mode2)]
        if len(slots) > con.intp:
            parts.append((len(slots) - con.intp, [t], slots))
    return sum(p[0] for p in parts), parts


def _br2(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    found = [(t, s) for t in con.teams for s in con.slots if tt.breaks(t, s)]
    dev = max(0, len(found) - con.intp)
    return dev, [(dev, sorted({t for t, _ in found}), sorted({s for _, s in found}))] if dev else []


def _fa2(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    cumulative = {}
    for t in con.teams:
        run, total = [], 0
        for s in range(tt.num_slots):
            total += tt.home[t][s]
            run.append(total)
        cumulative[t] = run
    parts = []
    for i, j in combinations(con.teams, 2):
        worst, at = 0, -1
        for s in con.slots:
            over = abs(cumulative[i][s] - cumulative[j][s]) - con.intp
            if over > worst:
                worst, at = over, s
        if worst:
            parts.append((worst, [i, j], [at]))
    return sum(p[0] for p in parts), parts


def _se1(con: Any, tt: Timetable) -> tuple[int, list[Part]]:
    parts = []
    for i, j in combinations(con.teams, 2):
        s1, s2 = tt.slot_of[(i, j)], tt.slot_of[(j, i)]
        between = abs(s1 - s2) - 1
        dev = max(0, con.min - between) + (max(0, between - con.max) if con.max is not None else 0)
        if dev:
            parts.append((dev, [i, j], sorted((s1, s2))))
    return sum(p[0] for p in parts), parts


DEVIATIONS: dict[str, Callable[[Any, Timetable], tuple[int, list[Part]]]] = {
    "CA1": _ca1,
    "CA2": _ca2,
    "CA3": _ca3,
    "CA4": _ca4,
    "GA1": _ga1,
    "BR1": _br1,
    "BR2": _br2,
    "FA2": _fa2,
    "SE1": _se1,
}


def _describe(parts: list[Part]) -> tuple[list[int], list[int], str]:
    teams = sorted({t for _, ts, _ in parts for t in ts})
    slots = sorted({s for _, _, ss in parts for s in ss})
    shown = "; ".join(
        f"teams {', '.join(map(str, ts))} in slots {', '.join(map(str, ss))} (+{dev})" for dev, ts, ss in parts[:6]
    )
    if len(parts) > 6:
        shown += f"; and {len(parts) - 6} more"
    return teams, slots, shown


def travel(inp: Input, tt: Timetable, team: int) -> int:
    """Distance `team` travels: from home to each away game in turn, and home again at the end."""
    d = inp.distances or []
    where = [team if tt.home[team][s] else tt.opp[team][s] for s in range(tt.num_slots)]
    route = [team, *where, team]
    return sum(d[a][b] for a, b in zip(route, route[1:], strict=False))


def travel_penalties(inp: Input, tt: Timetable) -> list[Penalty]:
    out = []
    for t in range(inp.n):
        if km := travel(inp, tt, t):
            out.append(Penalty("travel", km, who=inp.teams[t], detail=f"team {t} ({inp.teams[t]}) travels {km}"))
    return out


def deviations(inp: Input, games: list) -> tuple[int, int]:
    """(total deviation of HARD constraints, cost of SOFT ones plus travel) of a valid round robin."""
    tt = Timetable(inp.n, inp.num_slots, [tuple(g) for g in games])
    hard = soft = 0
    for con in inp.constraints:
        deviation = DEVIATIONS[con.constraint](con, tt)[0]
        if con.type == "HARD":
            hard += deviation
        else:
            soft += con.penalty * deviation
    if inp.distances is not None:
        soft += sum(travel(inp, tt, t) for t in range(inp.n))
    return hard, soft
