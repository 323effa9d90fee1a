"""Reads the Employee Shift Scheduling Benchmark text format (Curtois & Qu, `InstanceN.txt`).

The file is a list of sections (`SECTION_HORIZON`, `SECTION_SHIFTS`, ...), each running until a blank
line, with comma-separated fields and `#` comments. Every problem is reported with the line it is on,
e.g. `line 17 (SECTION_STAFF)`, so a user can fix the file without reading this code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.problems.base import InputError
from app.problems.shift_scheduling.schema import Input, validate

Row = tuple[int, list[str]]  # (line number, fields)

# Section name -> the fields each line holds, as the file's own comment lines name them.
SECTIONS: dict[str, str] = {
    "SECTION_HORIZON": "horizon length in days",
    "SECTION_SHIFTS": "ShiftID, LengthMinutes, CannotFollow",
    "SECTION_STAFF": "ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, "
    "MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends",
    "SECTION_DAYS_OFF": "EmployeeID, DayIndex, DayIndex, ...",
    "SECTION_SHIFT_ON_REQUESTS": "EmployeeID, Day, ShiftID, Weight",
    "SECTION_SHIFT_OFF_REQUESTS": "EmployeeID, Day, ShiftID, Weight",
    "SECTION_COVER": "Day, ShiftID, Requirement, WeightUnder, WeightOver",
}


class _LineErrors:
    """Collects every problem found, so one upload reports them all."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, line: int, section: str, message: str) -> None:
        self.errors.append({"path": f"line {line} ({section})", "message": message})


def import_text(text: str) -> Input:
    """The Input described by a benchmark text file; InputError with line paths if it is malformed."""
    if not isinstance(text, str):
        raise InputError([{"path": "input", "message": "expected the file's text"}])
    errors = _LineErrors()
    sections = _split_sections(text.removeprefix("\ufeff"), errors)  # files saved by Windows tools may start with a BOM
    payload, origins = _to_payload(sections, errors)
    if errors.errors:
        raise InputError(errors.errors)
    try:
        return validate(payload)
    except InputError as exc:
        raise InputError([_locate(e, origins) for e in exc.errors]) from None


def _split_sections(text: str, errors: _LineErrors) -> dict[str, list[Row]]:
    sections: dict[str, list[Row]] = {}
    current: str | None = None
    skipping = False  # inside a section already reported as bad: one error for it is enough
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            current, skipping = None, False  # a blank line ends the section
            continue
        if line.startswith("SECTION_"):
            current, skipping = None, True
            if line not in SECTIONS:
                errors.add(number, line, f"unknown section; known: {', '.join(SECTIONS)}")
            elif line in sections:
                errors.add(number, line, "section appears twice")
            else:
                current, skipping = line, False
                sections[current] = []
            continue
        if skipping:
            continue
        if current is None:
            errors.add(number, "outside any section", f"unexpected text {line[:40]!r}; is a SECTION_ line missing?")
            continue
        sections[current].append((number, [field.strip() for field in line.split(",")]))
    if "SECTION_HORIZON" not in sections:
        errors.errors.append({"path": "SECTION_HORIZON", "message": "missing; the file must give the horizon length"})
    return sections


_TARGETS = {  # section -> where its items go in the JSON shape
    "SECTION_SHIFTS": "shifts",
    "SECTION_STAFF": "staff",
    "SECTION_SHIFT_ON_REQUESTS": "shift_on_requests",
    "SECTION_SHIFT_OFF_REQUESTS": "shift_off_requests",
    "SECTION_COVER": "cover",
}


def _to_payload(sections: dict[str, list[Row]], errors: _LineErrors) -> tuple[dict[str, Any], dict[str, int]]:
    """The JSON-shaped input, and for each item path (e.g. 'staff[3]') the line it came from."""
    payload: dict[str, Any] = {"horizon_days": 0, "shifts": [], "staff": [], "cover": []}
    origins: dict[str, int] = {}
    days_off: dict[str, list[int]] = {}
    for section, rows in sections.items():
        for number, fields in rows:
            try:
                if section == "SECTION_HORIZON":
                    _expect(fields, 1, SECTIONS[section])
                    payload["horizon_days"] = _int(fields[0], "horizon")
                    origins["horizon_days"] = number
                elif section == "SECTION_DAYS_OFF":
                    if not fields[0]:
                        raise _FieldError(f"expected {SECTIONS[section]}; the employee id is empty")
                    days_off.setdefault(fields[0], []).extend(_int(f, "DayIndex") for f in fields[1:] if f)
                    origins.setdefault(f"days_off:{fields[0]}", number)
                else:
                    items = payload.setdefault(_TARGETS[section], [])
                    origins[f"{_TARGETS[section]}[{len(items)}]"] = number
                    items.append(_PARSERS[section](fields))
            except _FieldError as exc:
                errors.add(number, section, str(exc))
    # Days off live on the staff member in the JSON shape.
    staff_index = {person["id"]: i for i, person in enumerate(payload["staff"])}
    for person_id, days in days_off.items():
        line = origins[f"days_off:{person_id}"]
        if person_id not in staff_index:
            errors.add(line, "SECTION_DAYS_OFF", f"unknown employee {person_id!r}")
            continue
        i = staff_index[person_id]
        payload["staff"][i]["days_off"] = days
        origins[f"staff[{i}].days_off"] = line
    return payload, origins


class _FieldError(ValueError):
    pass


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _FieldError(f"{name} must be a whole number, got {value!r}") from None


def _expect(fields: list[str], count: int, expected: str) -> None:
    if len(fields) != count:
        raise _FieldError(f"expected {count} comma-separated fields ({expected}), got {len(fields)}")


def _shift(fields: list[str]) -> dict[str, Any]:
    if len(fields) == 2:  # the trailing comma of an empty CannotFollow is sometimes dropped
        fields = [*fields, ""]
    _expect(fields, 3, SECTIONS["SECTION_SHIFTS"])
    follow = [s.strip() for s in fields[2].split("|") if s.strip()]
    return {"id": fields[0], "length_minutes": _int(fields[1], "LengthMinutes"), "cannot_follow": follow}


def _staff(fields: list[str]) -> dict[str, Any]:
    _expect(fields, 8, SECTIONS["SECTION_STAFF"])
    max_shifts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in fields[1].split("|"))):
        shift_id, sep, limit = part.partition("=")
        if not sep:
            raise _FieldError(f"MaxShifts entries look like ShiftID=max, got {part!r}")
        max_shifts[shift_id.strip()] = _int(limit.strip(), f"MaxShifts for {shift_id.strip()}")
    names = [
        "MaxTotalMinutes",
        "MinTotalMinutes",
        "MaxConsecutiveShifts",
        "MinConsecutiveShifts",
        "MinConsecutiveDaysOff",
        "MaxWeekends",
    ]
    values = [_int(value, name) for value, name in zip(fields[2:], names, strict=True)]
    keys = [
        "max_total_minutes",
        "min_total_minutes",
        "max_consecutive_shifts",
        "min_consecutive_shifts",
        "min_consecutive_days_off",
        "max_weekends",
    ]
    return {"id": fields[0], "max_shifts": max_shifts, **dict(zip(keys, values, strict=True))}


def _request(fields: list[str]) -> dict[str, Any]:
    _expect(fields, 4, SECTIONS["SECTION_SHIFT_ON_REQUESTS"])
    return {"staff": fields[0], "day": _int(fields[1], "Day"), "shift": fields[2], "weight": _int(fields[3], "Weight")}


def _cover(fields: list[str]) -> dict[str, Any]:
    _expect(fields, 5, SECTIONS["SECTION_COVER"])
    return {
        "day": _int(fields[0], "Day"),
        "shift": fields[1],
        "requirement": _int(fields[2], "Requirement"),
        "weight_under": _int(fields[3], "WeightUnder"),
        "weight_over": _int(fields[4], "WeightOver"),
    }


_PARSERS: dict[str, Callable[[list[str]], dict[str, Any]]] = {
    "SECTION_SHIFTS": _shift,
    "SECTION_STAFF": _staff,
    "SECTION_SHIFT_ON_REQUESTS": _request,
    "SECTION_SHIFT_OFF_REQUESTS": _request,
    "SECTION_COVER": _cover,
}


def _locate(error: dict[str, str], origins: dict[str, int]) -> dict[str, str]:
    """Point a schema error (path 'staff[3].max_total_minutes') at the file line it came from."""
    path = error["path"]
    candidates = [key for key in origins if path == key or path.startswith((key + ".", key + "["))]
    if not candidates:
        return error
    key = max(candidates, key=len)  # the most specific origin, e.g. staff[3].days_off over staff[3]
    section = _section_of(key)
    return {"path": f"line {origins[key]} ({section})", "message": f"{path}: {error['message']}"}


def _section_of(key: str) -> str:
    for section, name in (
        ("SECTION_SHIFT_ON_REQUESTS", "shift_on_requests"),
        ("SECTION_SHIFT_OFF_REQUESTS", "shift_off_requests"),
        ("SECTION_COVER", "cover"),
        ("SECTION_SHIFTS", "shifts"),
        ("SECTION_HORIZON", "horizon_days"),
    ):
        if key.startswith(name):
            return section
    return "SECTION_DAYS_OFF" if key.endswith(".days_off") else "SECTION_STAFF"
