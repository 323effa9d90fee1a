"""A hand-made 4-team phased double round robin whose every count is easy to verify by eye.

slot:    0     1     2     3     4     5
team 0:  H1    A2    H3    A1    H2    A3     no breaks
team 1:  A0    A3    H2    H0    H3    A2     breaks in slots 1 (A), 3 (H), 4 (H)
team 2:  H3    H0    A1    A3    A0    H1     breaks in slots 1 (H), 3 (A), 4 (A)
team 3:  A2    H1    A0    H2    A1    H0     no breaks
"""

from __future__ import annotations

from typing import Any

from app.problems.round_robin.schema import Input, validate

GAMES = [
    [0, 1, 0], [2, 3, 0],
    [2, 0, 1], [3, 1, 1],
    [0, 3, 2], [1, 2, 2],
    [1, 0, 3], [3, 2, 3],
    [0, 2, 4], [1, 3, 4],
    [3, 0, 5], [2, 1, 5],
]  # fmt: skip
ALL_SLOTS = list(range(6))


def league(*constraints: dict[str, Any], **fields: Any) -> Input:
    """The 4-team league with `constraints` (SOFT with penalty 1 unless they say otherwise)."""
    cons = [{"type": "SOFT", "penalty": 1, **c} for c in constraints]
    return validate({"teams": ["A", "B", "C", "D"], "phased": True, "constraints": cons, **fields})


# (constraint, its deviation on GAMES), counted by hand from the table above
CASES = [
    ({"constraint": "CA1", "teams": [1], "slots": [2, 3, 4], "mode": "H", "max": 1}, 2),
    ({"constraint": "CA1", "teams": [0, 1], "slots": [0, 1], "mode": "A", "max": 0}, 1 + 2),
    ({"constraint": "CA2", "teams1": [0], "teams2": [1, 2], "slots": [0, 1, 2], "mode1": "HA", "max": 0}, 2),
    ({"constraint": "CA2", "teams1": [0], "teams2": [1, 2], "slots": [0, 1, 2], "mode1": "H", "max": 0}, 1),
    ({"constraint": "CA2", "teams1": [0, 3], "teams2": [1], "slots": ALL_SLOTS, "mode1": "A", "max": 0}, 1 + 1),
    ({"constraint": "CA3", "teams1": [1], "teams2": [0, 2, 3], "intp": 2, "mode1": "H", "max": 1}, 2),
    ({"constraint": "CA3", "teams1": [1], "teams2": [0, 2, 3], "intp": 3, "mode1": "A", "max": 1}, 1),
    (
        {"constraint": "CA4", "teams1": [0, 1], "teams2": [2, 3], "slots": ALL_SLOTS, "mode1": "H"}
        | {"mode2": "GLOBAL", "max": 1},
        3,  # 0-3 and 1-2 in slot 2, 0-2 and 1-3 in slot 4
    ),
    (
        {"constraint": "CA4", "teams1": [0, 1], "teams2": [2, 3], "slots": [2, 4], "mode1": "H"}
        | {"mode2": "EVERY", "max": 0},
        2 + 2,
    ),
    (
        {"constraint": "CA4", "teams1": [0, 1], "teams2": [0, 1], "slots": ALL_SLOTS, "mode1": "HA"}
        | {"mode2": "GLOBAL", "max": 1},
        1,  # 0-1 and 1-0: each game counted once though both teams are in both groups
    ),
    ({"constraint": "GA1", "meetings": [[0, 1], [2, 3]], "slots": [0], "max": 1}, 1),
    ({"constraint": "GA1", "meetings": [[0, 1], [2, 3]], "slots": [3], "min": 2, "max": 2}, 2),
    ({"constraint": "BR1", "teams": [1], "slots": ALL_SLOTS, "mode2": "HA", "intp": 1}, 2),
    ({"constraint": "BR1", "teams": [1], "slots": ALL_SLOTS, "mode2": "H", "intp": 1}, 1),
    ({"constraint": "BR1", "teams": [1, 2], "slots": [0, 1], "intp": 0}, 1 + 1),  # slot 0 is never a break
    ({"constraint": "BR2", "teams": [0, 1, 2, 3], "slots": ALL_SLOTS, "intp": 4}, 2),
    ({"constraint": "FA2", "teams": [0, 1], "slots": ALL_SLOTS, "intp": 0}, 1),
    ({"constraint": "FA2", "teams": [0, 1, 2], "slots": ALL_SLOTS, "intp": 0}, 1 + 1 + 2),
    ({"constraint": "FA2", "teams": [1, 2], "slots": [3, 5], "intp": 0}, 0),
    ({"constraint": "SE1", "teams": [0, 1, 2, 3], "min": 2}, 0),
    ({"constraint": "SE1", "teams": [0, 1, 2, 3], "min": 3}, 6),
]
