"""The season's calendar, derived from the input alone: playable dates, weeks, slots, distances.

Both the model and the independent checker read the calendar from here; it holds no decisions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property

from app.problems.league_scheduling.schema import WEEKDAYS, Input, Venue


@dataclass(frozen=True)
class Slot:
    """Where and when one game can be played: a field of a venue at a kick-off on a date."""

    date: dt.date
    venue: str
    field: str
    kickoff: str  # "HH:MM"
    rank: str  # "early" (the venue's first kick-off that day), "late" (its last), or "" (between / only one)


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


class Calendar:
    """Dates on which games can happen and the slots on each, for one validated input."""

    def __init__(self, inp: Input):
        self.inp = inp
        self.venues = {v.id: v for v in inp.venues}
        self.team_venue = {t.id: t.venue for t in inp.teams()}
        self.team_blackouts = {t.id: set(t.blackout_dates) for t in inp.teams()}
        self.division_of = {t.id: d.id for d in inp.divisions for t in d.teams}
        self._slots: dict[tuple[dt.date, str | None], list[Slot]] = {}

    @cached_property
    def dates(self) -> list[dt.date]:
        """Every date of the season on a playing weekday, not a league blackout, with at least one slot."""
        s = self.inp.season
        off = set(s.blackout_dates)
        days = (s.start + dt.timedelta(days=i) for i in range((s.end - s.start).days + 1))
        return [d for d in days if WEEKDAYS[d.weekday()] in s.weekdays and d not in off and self.slots_on(d)]

    @cached_property
    def index(self) -> dict[dt.date, int]:
        return {d: i for i, d in enumerate(self.dates)}

    def week(self, day: dt.date) -> tuple[int, int]:
        """ISO (year, week): weeks run Monday to Sunday."""
        iso = day.isocalendar()
        return iso[0], iso[1]

    def slots_on(self, day: dt.date, venue: str | None = None) -> list[Slot]:
        """Open slots on `day`, at one venue or at all; memoised (the models ask often)."""
        key = (day, venue)
        if key not in self._slots:
            venues = [self.venues[venue]] if venue else self.inp.venues
            self._slots[key] = [s for v in venues for s in _venue_slots(v, day)]
        return self._slots[key]

    def capacity(self, day: dt.date, venue: str | None = None) -> int:
        return len(self.slots_on(day, venue))

    def team_free(self, team: str, day: dt.date) -> bool:
        return day not in self.team_blackouts[team]

    def distance_km(self, a: str | None, b: str | None) -> float:
        """Straight-line distance between two venues; 0 when either is unknown or has no position."""
        va, vb = self.venues.get(a or ""), self.venues.get(b or "")
        if va is None or vb is None or va.x_km is None or vb.x_km is None:
            return 0.0
        return math.hypot(va.x_km - vb.x_km, va.y_km - vb.y_km)

    def travel_cost(self, game_venue: str, home: str, away: str) -> int:
        """Travel units (10 km each, rounded) of both teams from their home venues to the game's venue."""
        km = self.distance_km(self.team_venue[away], game_venue) + self.distance_km(self.team_venue[home], game_venue)
        return round(km / 10)


def _venue_slots(venue: Venue, day: dt.date) -> list[Slot]:
    if day in venue.blackout_dates:
        return []
    times = sorted(venue.kickoffs.get(WEEKDAYS[day.weekday()], []), key=minutes)
    out = []
    for i, t in enumerate(times):
        rank = "" if len(times) < 2 else ("early" if i == 0 else "late" if i == len(times) - 1 else "")
        out += [Slot(day, venue.id, f, t, rank) for f in venue.fields]
    return out
