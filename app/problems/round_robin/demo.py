"""Seeded demo leagues: a small ITC2021-style league and a small traveling tournament."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from app.problems.round_robin.schema import Input, validate


def league(n: int = 8, seed: int = 1) -> Input:
    """n teams, phased, with a few wishes of every ITC2021 class (stadium conflicts, top games, breaks)."""
    rng = random.Random(seed)
    slots = 2 * (n - 1)
    teams = [f"Team {chr(65 + t)}" for t in range(n)]
    cons: list[dict] = []
    for t in range(n):  # stadium unavailable: no home game in two slots
        cons.append(
            {
                "constraint": "CA1",
                "type": "HARD",
                "teams": [t],
                "slots": rng.sample(range(slots), 2),
                "mode": "H",
                "max": 0,
            }
        )
    top = rng.sample(range(n), 3)
    cons.append(
        {
            "constraint": "CA2",
            "type": "SOFT",
            "penalty": 5,
            "teams1": [top[0]],
            "teams2": top[1:],
            "mode1": "HA",
            "slots": list(range(3)),
            "max": 0,
        }
    )
    cons.append(
        {
            "constraint": "CA3",
            "type": "SOFT",
            "penalty": 3,
            "teams1": list(range(n)),
            "teams2": top,
            "mode1": "HA",
            "intp": 3,
            "max": 2,
        }
    )
    cons.append(
        {
            "constraint": "CA4",
            "type": "SOFT",
            "penalty": 2,
            "teams1": top,
            "teams2": top,
            "mode1": "HA",
            "mode2": "EVERY",
            "slots": list(range(slots)),
            "max": 1,
        }
    )
    cons.append(
        {
            "constraint": "GA1",
            "type": "SOFT",
            "penalty": 4,
            "meetings": [[top[0], top[1]]],
            "slots": [slots - 1],
            "min": 1,
            "max": 1,
        }
    )
    cons.append(
        {
            "constraint": "BR1",
            "type": "SOFT",
            "penalty": 2,
            "teams": list(range(n)),
            "slots": list(range(slots)),
            "mode2": "HA",
            "intp": 2,
        }
    )
    cons.append(
        {"constraint": "BR2", "type": "HARD", "teams": list(range(n)), "slots": list(range(slots)), "intp": 5 * n}
    )
    cons.append(
        {
            "constraint": "FA2",
            "type": "SOFT",
            "penalty": 1,
            "teams": list(range(n)),
            "slots": list(range(slots)),
            "intp": 2,
        }
    )
    cons.append({"constraint": "SE1", "type": "SOFT", "penalty": 1, "teams": list(range(n)), "min": 2})
    return validate({"name": f"demo league ({n} teams)", "teams": teams, "phased": True, "constraints": cons})


def tour(n: int = 6, seed: int = 1) -> Input:
    """A traveling tournament: teams in cities on a map, at most 3 home or away games in a row, no repeaters."""
    rng = random.Random(seed)
    cities = [(rng.randint(0, 1000), rng.randint(0, 1000)) for _ in range(n)]
    dist = [[round(math.dist(p, q)) for q in cities] for p in cities]
    everyone = list(range(n))
    cons = [
        {
            "constraint": "CA3",
            "type": "HARD",
            "teams1": everyone,
            "teams2": everyone,
            "mode1": mode,
            "intp": 4,
            "max": 3,
        }
        for mode in ("H", "A")
    ]
    cons.append({"constraint": "SE1", "type": "HARD", "teams": everyone, "min": 1})
    teams = [f"City {t}" for t in range(n)]
    return validate({"name": f"demo tour ({n} teams)", "teams": teams, "constraints": cons, "distances": dist})


DEMOS: dict[str, Callable[[], Input]] = {"league": league, "tour": tour, "large_league": lambda: league(16, 2)}
