"""Seeded demo leagues: small (one pool), medium (a club league) and "200 teams" (a big recreational league)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from app.problems.league_scheduling.schema import Input, validate

NAMES = [
    "Lions",
    "Tigers",
    "Bears",
    "Wolves",
    "Hawks",
    "Eagles",
    "Foxes",
    "Otters",
    "Badgers",
    "Ravens",
    "Sharks",
    "Bulls",
    "Comets",
    "Rockets",
    "Stars",
    "Giants",
]


def demo(size: str, seed: int = 1) -> Input:
    """The demo league called `size` ("small", "medium" or "200_teams"), the same for the same seed."""
    makers = {"small": _small, "medium": _medium, "200_teams": _big}
    return validate(makers[size](random.Random(seed)))


def _saturday(year: int, month: int, day: int) -> dt.date:
    d = dt.date(year, month, day)
    return d + dt.timedelta(days=(5 - d.weekday()) % 7)


def _venues(rnd: random.Random, n: int, fields: int, kickoffs: dict[str, list[str]], spread_km: float) -> list[dict]:
    return [
        {
            "id": f"V{i + 1:02d}",
            "name": f"{rnd.choice(['North', 'South', 'East', 'West', 'Park', 'River', 'Hill'])} Ground {i + 1}",
            "fields": [str(f + 1) for f in range(fields)],
            "kickoffs": kickoffs,
            "x_km": round(rnd.uniform(0, spread_km), 1),
            "y_km": round(rnd.uniform(0, spread_km), 1),
        }
        for i in range(n)
    ]


def _blackouts(rnd: random.Random, start: dt.date, weekends: int, n: int) -> list[str]:
    days = [start + dt.timedelta(days=7 * w + d) for w in range(weekends) for d in (0, 1)]
    return sorted(d.isoformat() for d in rnd.sample(days, n))


def _small(rnd: random.Random) -> dict[str, Any]:
    start = _saturday(2027, 4, 1)
    teams = [{"id": f"T{i + 1}", "name": NAMES[i], "venue": f"V0{i % 2 + 1}"} for i in range(4)]
    return {
        "name": "Small demo: one pool of 4",
        "season": {"start": start.isoformat(), "end": (start + dt.timedelta(days=27)).isoformat()},
        "divisions": [{"id": "A", "name": "Pool A", "teams": teams, "round_robin": 1}],
        "venues": _venues(rnd, 2, 1, {"sat": ["10:00", "12:00"], "sun": ["10:00"]}, 20),
    }


def _medium(rnd: random.Random) -> dict[str, Any]:
    start, weekends = _saturday(2027, 3, 1), 16
    venues = _venues(rnd, 8, 2, {"sat": ["09:00", "11:00", "13:00"], "sun": ["10:00", "12:00"]}, 40)
    divisions = []
    for d in range(4):
        n = 7 if d == 3 else 6
        teams = [
            {
                "id": f"{'ABCD'[d]}{i + 1}",
                "name": f"{NAMES[(d * 6 + i) % len(NAMES)]} {'ABCD'[d]}",
                "venue": None if (d, i) == (2, 5) else venues[(d * 2 + i) % 8]["id"],
                "blackout_dates": _blackouts(rnd, start, weekends, 2),
            }
            for i in range(n)
        ]
        fmt = {"games_per_team": 5} if d == 3 else {"round_robin": 2}
        divisions.append({"id": "ABCD"[d], "name": f"Division {'ABCD'[d]}", "teams": teams, **fmt})
    return {
        "name": "Medium demo: a club league",
        "season": {
            "start": start.isoformat(),
            "end": (start + dt.timedelta(days=7 * weekends - 6)).isoformat(),
            "blackout_dates": [(start + dt.timedelta(days=7 * 5 + 1)).isoformat()],
        },
        "divisions": divisions,
        "venues": venues,
        "cross_division_games": [{"teams": ["A1", "B1"]}],
        "fixed_games": [{"home": "A1", "away": "A2", "date": (start + dt.timedelta(days=7 * 8)).isoformat()}],
        "forbidden_pairings": [{"teams": ["D1", "D2"]}],
    }


def _big(rnd: random.Random) -> dict[str, Any]:
    """25 divisions of 8 teams, 6-7 games each (~630 games), 40 venues with 4 kick-offs per weekend day."""
    start, weekends = _saturday(2027, 3, 1), 12
    venues = _venues(
        rnd, 40, 1, {"sat": ["09:00", "11:00", "13:00", "15:00"], "sun": ["09:00", "11:00", "13:00", "15:00"]}, 80
    )
    divisions = []
    for d in range(25):
        teams = [
            {
                "id": f"D{d + 1:02d}T{i + 1}",
                "name": f"{NAMES[(d + i) % len(NAMES)]} {d + 1}-{i + 1}",
                "venue": venues[(d * 8 + i) % 40]["id"],
                "blackout_dates": _blackouts(rnd, start, weekends, 3),
            }
            for i in range(8)
        ]
        divisions.append(
            {
                "id": f"D{d + 1:02d}",
                "name": f"Division {d + 1}",
                "teams": teams,
                "games_per_team": 7 if d % 4 == 0 else 6,
            }
        )
    return {
        "name": "200 teams",
        "season": {"start": start.isoformat(), "end": (start + dt.timedelta(days=7 * weekends - 6)).isoformat()},
        "divisions": divisions,
        "venues": venues,
    }
