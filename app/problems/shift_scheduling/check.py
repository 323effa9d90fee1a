"""The independent checker: re-verifies a roster in plain Python, without OR-Tools.

It shares no code with the CP-SAT model on purpose (only the input and its calendar of weekends),
so a bug in one is caught by the other. It reports every broken hard rule as a sentence naming who
and when, and every soft penalty paid, from which it recomputes the objective (the solver's own
figure can be overstated, see DESIGN.md).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.problems.base import Check, Penalty
from app.problems.shift_scheduling.schema import Input, Staff

Row = list[str | None]  # one person's roster: a shift id or None (off) per day


def check(inp: Input, solution: Any) -> Check:
    """Every hard rule broken and every soft penalty paid by `solution` ({"roster": {...}})."""
    roster, problems = _read_roster(inp, solution)
    if problems:  # the other checks would only repeat the same mistake in other words
        return Check(violations=problems)
    result = Check()
    for person in inp.staff:
        result.violations += _person_violations(inp, person, roster[person.id])
    result.penalties = _penalties(inp, roster)
    return result


def _read_roster(inp: Input, solution: Any) -> tuple[dict[str, Row], list[str]]:
    """The roster, or what makes it unreadable: missing or unknown staff, wrong length, unknown shift."""
    roster = solution.get("roster") if isinstance(solution, dict) else None
    if not isinstance(roster, dict):
        return {}, ['the solution has no "roster" (staff id -> list of shift ids per day)']
    problems: list[str] = []
    shift_ids = {shift.id for shift in inp.shifts}
    staff_ids = {person.id for person in inp.staff}
    problems += [f"roster names unknown staff {who!r}" for who in roster if who not in staff_ids]
    for person in inp.staff:
        row = roster.get(person.id)
        if not isinstance(row, list):
            problems.append(f"{person.id} has no roster")
            continue
        if len(row) != inp.horizon_days:
            problems.append(f"{person.id}'s roster has {len(row)} days, expected {inp.horizon_days}")
        for day, shift in enumerate(row):
            if shift is not None and (not isinstance(shift, str) or shift not in shift_ids):
                problems.append(f"{person.id} works unknown shift {shift!r} on day {day}")
    return roster, problems


def _person_violations(inp: Input, person: Staff, row: Row) -> list[str]:
    name = person.id
    length = {shift.id: shift.length_minutes for shift in inp.shifts}
    out: list[str] = []
    for day in sorted(set(person.days_off)):
        if row[day] is not None:
            out.append(f"{name} works {row[day]} on day {day}, a day off")
    cannot_follow = {shift.id: set(shift.cannot_follow) for shift in inp.shifts}
    for day in range(inp.horizon_days - 1):
        today, tomorrow = row[day], row[day + 1]
        if today is not None and tomorrow in cannot_follow[today]:
            why = f"{tomorrow} may not follow {today}"
            out.append(f"{name} works {tomorrow} on day {day + 1} right after {today} on day {day} ({why})")
    counts = Counter(shift for shift in row if shift is not None)
    for shift_id, limit in person.max_shifts.items():
        if counts[shift_id] > limit:
            out.append(f"{name} works {counts[shift_id]} {shift_id} shifts (max {limit})")
    minutes = sum(length[shift] for shift in row if shift is not None)
    if minutes < person.min_total_minutes:
        out.append(f"{name} works {minutes} minutes (min {person.min_total_minutes})")
    if person.max_total_minutes is not None and minutes > person.max_total_minutes:
        out.append(f"{name} works {minutes} minutes (max {person.max_total_minutes})")
    out += _stretch_violations(name, [shift is not None for shift in row], person)
    if person.max_weekends is not None:
        worked = [days[0] for days in inp.weekends() if any(row[d] is not None for d in days)]
        if len(worked) > person.max_weekends:
            starts = ", ".join(f"day {d}" for d in worked)
            out.append(f"{name} works {len(worked)} weekends (max {person.max_weekends}): weekends starting {starts}")
    return out


def _stretch_violations(name: str, works: list[bool], person: Staff) -> list[str]:
    """Too-long or too-short stretches of work, and too-short breaks."""
    out: list[str] = []
    last_day = len(works) - 1
    for start, length, working in _stretches(works):
        # A stretch touching day 0 or the last day may continue outside the plan: no minimum applies.
        bounded = start > 0 and start + length - 1 < last_day
        if working:
            limit = person.max_consecutive_shifts
            if limit is not None and length > limit:
                out.append(f"{name} works {length} days in a row from day {start} (max {limit})")
            if bounded and length < person.min_consecutive_shifts:
                out.append(
                    f"{name} works only {length} day(s) in a row from day {start} (min {person.min_consecutive_shifts})"
                )
        elif bounded and length < person.min_consecutive_days_off:
            out.append(
                f"{name} has only {length} day(s) off in a row from day {start} (min {person.min_consecutive_days_off})"
            )
    return out


def _stretches(works: list[bool]) -> list[tuple[int, int, bool]]:
    """Maximal runs of equal values: (first day, length, working?)."""
    runs: list[tuple[int, int, bool]] = []
    start = 0
    for day in range(1, len(works) + 1):
        if day == len(works) or works[day] != works[start]:
            runs.append((start, day - start, works[start]))
            start = day
    return runs


def _penalties(inp: Input, roster: dict[str, Row]) -> list[Penalty]:
    out: list[Penalty] = []
    for r in inp.shift_on_requests:
        got = roster[r.staff][r.day]
        if got != r.shift and r.weight > 0:
            detail = f"asked to work {r.shift}, " + ("was off" if got is None else f"worked {got}")
            out.append(Penalty("shift_on_requests", r.weight, r.staff, r.day, r.shift, detail))
    for r in inp.shift_off_requests:
        if roster[r.staff][r.day] == r.shift and r.weight > 0:
            out.append(Penalty("shift_off_requests", r.weight, r.staff, r.day, r.shift, f"asked not to work {r.shift}"))
    on_shift = Counter((day, shift) for row in roster.values() for day, shift in enumerate(row) if shift is not None)
    for c in inp.cover:
        n = on_shift[c.day, c.shift]
        detail = f"{n} on shift, {c.requirement} needed"
        if n < c.requirement and c.weight_under > 0:
            out.append(Penalty("cover_under", c.weight_under * (c.requirement - n), None, c.day, c.shift, detail))
        if n > c.requirement and c.weight_over > 0:
            out.append(Penalty("cover_over", c.weight_over * (n - c.requirement), None, c.day, c.shift, detail))
    return out
