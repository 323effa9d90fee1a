"""Stage 3, venue, field and kick-off for each dated game; and the schedule a run returns.

Once dates and home sides are fixed, each game only needs a free slot on its date. A quick greedy
(home venue first, the kick-off its teams have had least, else the nearest venue with room) turns
every date plan into a complete schedule at once; the slot model then optimises home venues,
travel and fair kick-offs over the whole season. Its variables are (game, slot) only for slots at
the home team's venue, plus, for games that cannot all fit there, the nearest venues with room.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import Model, ValueOf
from app.problems.league_scheduling.games import Game
from app.problems.league_scheduling.model import Plan
from app.problems.league_scheduling.schema import Input
from app.problems.league_scheduling.season import Calendar, Slot

Assignment = dict[int, Slot | None]  # game index -> its slot (None: no slot found)
NEAREST_VENUES = 6  # venues with room offered to a game that cannot be at home


def sides(game: Game, side: int) -> tuple[str, str]:
    return (game.a, game.b) if side == 0 else (game.b, game.a)


def by_date(plan: Plan) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for g, (j, _) in sorted(plan.items()):
        out[j].append(g)
    return out


def fixed_slot(slots: list[Slot], game: Game) -> list[Slot]:
    """A fixed game's slots narrowed to its venue, field and kick-off when those are given."""
    f = game.fixed
    if f is None or f.venue is None:
        return slots
    return [
        s
        for s in slots
        if s.venue == f.venue
        and (f.field is None or s.field == f.field)
        and (f.kickoff is None or s.kickoff == f.kickoff)
    ]


def greedy(cal: Calendar, games: list[Game], plan: Plan) -> Assignment:
    """A slot for every dated game: home venue first, fair kick-offs, else the nearest venue with room."""
    ranks: dict[str, Counter] = defaultdict(Counter)
    out: Assignment = {}
    for j, day_games in sorted(by_date(plan).items()):
        free = set(cal.slots_on(cal.dates[j]))
        # Fixed games and teams with a home venue choose first: the others can go anywhere.
        day_games.sort(key=lambda g: (games[g].fixed is None, cal.team_venue[sides(games[g], plan[g][1])[0]] is None))
        for g in day_games:
            home, away = sides(games[g], plan[g][1])
            options = fixed_slot(sorted(free, key=_slot_order), games[g])
            slot = _pick(cal, options, home, away, ranks)
            out[g] = slot
            if slot is not None:
                free.discard(slot)
                ranks[home][slot.rank] += 1
                ranks[away][slot.rank] += 1
    return out


def _slot_order(s: Slot) -> tuple:
    return (s.venue, s.kickoff, s.field)


def _pick(cal: Calendar, options: list[Slot], home: str, away: str, ranks: dict[str, Counter]) -> Slot | None:
    if not options:
        return None
    at_home = [s for s in options if s.venue == cal.team_venue[home]]
    pool = at_home or options

    def cost(s: Slot) -> tuple[int, int]:
        unfair = ranks[home][s.rank] + ranks[away][s.rank] if s.rank else 0
        return (cal.travel_cost(s.venue, home, away), unfair)

    return min(pool, key=cost)


# --- the slot model -------------------------------------------------------------------------------


@dataclass
class SlotVars:
    y: dict[tuple[int, Slot], cp_model.IntVar] = field(default_factory=dict)
    by_game: dict[int, list[tuple[Slot, cp_model.IntVar]]] = field(default_factory=lambda: defaultdict(list))
    none: dict[int, cp_model.IntVar] = field(default_factory=dict)  # game -> left without a slot
    terms: list[tuple[str, Any, int]] = field(default_factory=list)


def build_slots(inp: Input, cal: Calendar, games: list[Game], plan: Plan) -> tuple[cp_model.CpModel, SlotVars]:
    """The slot model for a fixed date plan: each game on one free slot, minimising its soft rules' cost."""
    model = Model()
    model.name = "league_slots"
    v = SlotVars()
    rules = inp.rules
    per_slot: dict[Slot, list[cp_model.IntVar]] = defaultdict(list)
    team_rank: dict[tuple[str, str], list[cp_model.IntVar]] = defaultdict(list)
    for j, day_games in by_date(plan).items():
        for g, slot in _candidates(cal, games, plan, j, day_games):
            y = model.new_bool_var(f"{games[g].id}_{slot.venue}_{slot.field}_{slot.kickoff}")
            v.y[g, slot] = y
            v.by_game[g].append((slot, y))
            per_slot[slot].append(y)
            home, away = sides(games[g], plan[g][1])
            if slot.rank:
                team_rank[home, slot.rank].append(y)
                team_rank[away, slot.rank].append(y)
            if rules.home_venue.on and cal.team_venue[home] not in (None, slot.venue):
                v.terms.append(("home_venue", y, rules.home_venue.weight))
            if rules.travel.on and (cost := cal.travel_cost(slot.venue, home, away)):
                v.terms.append(("travel", y, rules.travel.weight * cost))
    for g in plan:
        none = model.new_bool_var(f"{games[g].id}_no_slot")
        model.add_exactly_one([none] + [y for _, y in v.by_game[g]])
        v.none[g] = none
        v.terms.append(("unplaced", none, rules.unplaced.weight))
    for ys in per_slot.values():
        if len(ys) > 1:
            model.add_at_most_one(ys)
    if rules.fair_kickoffs.on:
        played = Counter(t for g, (_, s) in plan.items() for t in sides(games[g], s))
        for (team, rank), ys in team_rank.items():
            limit = int(rules.fair_kickoffs.max_share * played[team])
            if len(ys) > limit:
                excess = model.new_int_var(0, len(ys), f"{rank}_{team}")
                model.add(excess >= sum(ys) - limit)
                v.terms.append(("fair_kickoffs", excess, rules.fair_kickoffs.weight))
    model.minimize(cp_model.LinearExpr.weighted_sum([e for _, e, _ in v.terms], [w for _, _, w in v.terms]))
    return model, v


def _candidates(cal: Calendar, games: list[Game], plan: Plan, j: int, day_games: list[int]):
    """(game, slot) pairs: the home venue's slots, and the nearest venues with room when home is full."""
    day = cal.dates[j]
    demand = Counter(cal.team_venue[sides(games[g], plan[g][1])[0]] for g in day_games)
    room = [v.id for v in cal.inp.venues if cal.capacity(day, v.id) > demand.get(v.id, 0)]
    for g in day_games:
        home, away = sides(games[g], plan[g][1])
        venue = cal.team_venue[home]
        venues = [venue] if venue is not None else []
        if venue is None or demand[venue] > cal.capacity(day, venue):
            near = sorted(room, key=lambda r: (cal.travel_cost(r, home, away), r))
            venues += [r for r in near[:NEAREST_VENUES] if r != venue]
        for venue_id in venues:
            for slot in fixed_slot(cal.slots_on(day, venue_id), games[g]):
                yield g, slot


def extract_slots(v: SlotVars, value: ValueOf) -> Assignment:
    out: Assignment = {}
    for g, options in v.by_game.items():
        out[g] = next((slot for slot, y in options if value(y)), None)
    return out


def hint_slots(model: cp_model.CpModel, v: SlotVars, assignment: Assignment) -> None:
    """Hint the slot model with an assignment (e.g. the greedy one); CP-SAT repairs what does not fit."""
    for (g, slot), y in v.y.items():
        model.add_hint(y, assignment.get(g) == slot)


# --- the schedule ---------------------------------------------------------------------------------


def schedule(cal: Calendar, games: list[Game], plan: Plan, assignment: Assignment) -> dict[str, Any]:
    """The run's solution: every game with its date, kick-off, venue, field and sides (null when unplaced)."""
    rows = []
    for g, game in enumerate(games):
        slot = assignment.get(g) if g in plan else None
        home, away = sides(game, plan[g][1]) if slot is not None else (game.a, game.b)
        rows.append(
            {
                "id": game.id,
                "division": game.division,
                "home": home,
                "away": away,
                "date": slot.date.isoformat() if slot else None,
                "kickoff": slot.kickoff if slot else None,
                "venue": slot.venue if slot else None,
                "field": slot.field if slot else None,
            }
        )
    rows.sort(key=lambda r: (r["date"] is None, r["date"] or "", r["kickoff"] or "", r["venue"] or "", r["id"]))
    return {"games": rows}
