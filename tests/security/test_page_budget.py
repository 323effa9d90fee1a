"""Pages stay small however large the problem: the largest shift-scheduling input the schema accepts
(staff x days x shifts at its 500,000 cap, 64-character ids, a request for many cells), solved with
every cell filled, renders a run page, a status poll and a result page within a fixed byte budget."""

from __future__ import annotations

import json
import time

import pytest

from app.config import Settings
from app.problems.shift_scheduling import validate
from app.problems.shift_scheduling.schema import MAX_ASSIGNMENTS, MAX_HORIZON_DAYS
from tests.web.factories import store_run

pytestmark = pytest.mark.slow

PAGE_BUDGET = 1_500_000  # bytes of HTML for the run page or one page of its result
POLL_BUDGET = 30_000  # bytes of one status poll


def largest_input() -> dict:
    days = MAX_HORIZON_DAYS
    staff = MAX_ASSIGNMENTS // days  # 1,366 people x 366 days x 1 shift = 499,956 assignments
    shift = "S" * 64
    people = [f"{i:04d}".ljust(64, "x") for i in range(staff)]
    on = [
        {"staff": p, "day": d, "shift": shift, "weight": 3} for i, p in enumerate(people) for d in range(i % 7, days, 7)
    ]
    inp = {
        "horizon_days": days,
        "shifts": [{"id": shift, "length_minutes": 480}],
        "staff": [{"id": p, "days_off": [6]} for p in people],
        "shift_on_requests": on[:20_000],
        "cover": [{"day": d, "shift": shift, "requirement": staff, "weight_under": 100} for d in range(days)],
    }
    return inp


def test_the_largest_accepted_roster_renders_within_budget(client, database_url):
    inp = largest_input()
    assert len(json.dumps(inp)) <= Settings().MAX_CONTENT_LENGTH, "the API would not even accept it"
    validate(inp)  # the schema accepts it
    shift = inp["shifts"][0]["id"]
    roster = {
        p["id"]: [shift if (i + d) % 5 else None for d in range(inp["horizon_days"])]
        for i, p in enumerate(inp["staff"])
    }
    items = [
        {
            "rule": "shift_on_requests",
            "cost": 3,
            "who": r["staff"],
            "day": r["day"],
            "shift": shift,
            "detail": "asked to work",
        }
        for r in inp["shift_on_requests"][:20_000]
    ]
    breakdown = [
        {
            "rule": "shift_on_requests",
            "label": "Shift requests not granted",
            "cost": 3 * len(items),
            "count": len(items),
            "items": items,
        }
    ]
    run = store_run(
        database_url,
        "succeeded",
        "shift_scheduling",
        input=inp,
        objective=3 * len(items),
        result={"solution": {"roster": roster}, "breakdown": breakdown, "checked": True, "summary": {}},
    )
    sizes, times = {}, {}
    for name, path in (
        ("page", f"/runs/{run.id}"),
        ("poll", f"/runs/{run.id}/status"),
        ("result", f"/runs/{run.id}/result?staff_page=50"),
        ("last", f"/runs/{run.id}/result?staff_page=999"),
    ):
        t0 = time.perf_counter()
        resp = client.get(path)
        times[name] = time.perf_counter() - t0
        assert resp.status_code == 200, path
        sizes[name] = len(resp.data)
    print(f"largest roster: bytes {sizes}, seconds { {k: round(v, 2) for k, v in times.items()} }")
    assert sizes["page"] <= PAGE_BUDGET and sizes["result"] <= PAGE_BUDGET and sizes["last"] <= PAGE_BUDGET
    assert sizes["poll"] <= POLL_BUDGET
    html = client.get(f"/runs/{run.id}/result?staff_page=2").get_data(as_text=True)
    assert "page 2 of" in html and "Next staff" in html and "The 100 costliest of 20,000" in html
