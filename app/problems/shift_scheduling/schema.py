"""The shift-scheduling input: who can work which shifts, what they asked for, what must be covered.

The pydantic models check each field on its own (types, bounds, no unknown fields); `validate()` then
checks what refers to what (known staff and shift ids, days inside the horizon, no duplicates) and
reports every problem with the path a user typed, e.g. `shift_on_requests[3].shift`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from app.problems.base import InputError

MAX_HORIZON_DAYS = 366
MAX_WEIGHT = 1_000_000
MAX_MINUTES = MAX_HORIZON_DAYS * 24 * 60
# Keeps one request from building a model that would exhaust a worker's memory.
MAX_ASSIGNMENTS = 500_000  # staff x days x shifts


def _no_outer_space(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with spaces")
    return value


Id = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_outer_space)]
Day = Annotated[int, Field(ge=0, lt=MAX_HORIZON_DAYS, description="Day index; day 0 is a Monday.")]
Weight = Annotated[int, Field(ge=0, le=MAX_WEIGHT)]


class _Strict(BaseModel):
    # Strict: "5" or 5.0 or true are not silently taken for 5; extra fields are typos to report.
    model_config = ConfigDict(extra="forbid", strict=True)


class Shift(_Strict):
    """A kind of shift, e.g. early, late or night."""

    id: Id = Field(description="Short name of the shift, e.g. 'E' (early) or 'N' (night).")
    length_minutes: int = Field(ge=1, le=1440, description="How long the shift is, in minutes.")
    cannot_follow: list[Id] = Field(
        default_factory=list,
        description="Shifts that may not be worked on the day after this one (e.g. no early after a night).",
    )


class Staff(_Strict):
    """A person to roster, with their limits over the horizon."""

    id: Id = Field(description="The person's name or staff number; unique.")
    max_shifts: dict[str, Annotated[int, Field(ge=0, le=MAX_HORIZON_DAYS)]] = Field(
        default_factory=dict,
        description="Most shifts of each type over the horizon, by shift id; 0 = never works it; unlisted = no limit.",
    )
    max_total_minutes: int | None = Field(
        default=None, ge=0, le=MAX_MINUTES, description="Most minutes worked over the horizon; null = no limit."
    )
    min_total_minutes: int = Field(
        default=0, ge=0, le=MAX_MINUTES, description="Fewest minutes worked over the horizon."
    )
    max_consecutive_shifts: int | None = Field(
        default=None, ge=1, le=MAX_HORIZON_DAYS, description="Most days worked in a row; null = no limit."
    )
    min_consecutive_shifts: int = Field(
        default=1,
        ge=1,
        le=MAX_HORIZON_DAYS,
        description="Fewest days worked in a row, for stretches starting after day 0 and ending before the horizon.",
    )
    min_consecutive_days_off: int = Field(
        default=1,
        ge=1,
        le=MAX_HORIZON_DAYS,
        description="Fewest days off in a row, for breaks starting after day 0 and ending before the horizon.",
    )
    max_weekends: int | None = Field(
        default=None,
        ge=0,
        le=MAX_HORIZON_DAYS,
        description="Most weekends worked (Saturday or Sunday or both counts as one); null = no limit.",
    )
    days_off: list[Day] = Field(default_factory=list, description="Days this person must not work.")


class ShiftRequest(_Strict):
    """A wish to work (or not to work) a given shift on a given day."""

    staff: Id = Field(description="Who asks.")
    day: Day
    shift: Id = Field(description="Which shift.")
    weight: Weight = Field(default=1, description="Penalty if the request is not granted.")


class Cover(_Strict):
    """How many people a shift needs on a day, and what each one missing or extra costs."""

    day: Day
    shift: Id = Field(description="Which shift.")
    requirement: int = Field(ge=0, le=100_000, description="How many people should work it.")
    weight_under: Weight = Field(default=100, description="Penalty per person missing.")
    weight_over: Weight = Field(default=1, description="Penalty per person too many.")


class Input(_Strict):
    """A shift-scheduling problem: build a roster for `staff` over `horizon_days` days."""

    horizon_days: int = Field(ge=1, le=MAX_HORIZON_DAYS, description="Days to plan; day 0 is a Monday.")
    shifts: list[Shift] = Field(min_length=1, max_length=100, description="The kinds of shift.")
    staff: list[Staff] = Field(min_length=1, max_length=2000, description="The people to roster.")
    shift_on_requests: list[ShiftRequest] = Field(
        default_factory=list, description="Someone asks to work a shift on a day; penalty if not."
    )
    shift_off_requests: list[ShiftRequest] = Field(
        default_factory=list, description="Someone asks not to work a shift on a day; penalty if they do."
    )
    cover: list[Cover] = Field(default_factory=list, description="How many people each shift needs on each day.")

    def weekends(self) -> list[list[int]]:
        """The Saturday/Sunday day indices of each weekend in the horizon (day 0 is a Monday)."""
        return [[d for d in (sat, sat + 1) if d < self.horizon_days] for sat in range(5, self.horizon_days, 7)]


def validate(payload: Any) -> Input:
    """The Input described by a parsed JSON document; InputError (with field paths) if it is not valid."""
    if isinstance(payload, Input):
        payload = payload.model_dump()
    try:
        inp = Input.model_validate(payload)
    except PydanticValidationError as exc:
        raise InputError.from_pydantic(exc) from None
    errors = cross_check(inp)
    if errors:
        raise InputError(errors)
    return inp


def cross_check(inp: Input) -> list[dict[str, str]]:
    """Problems between fields: unknown or duplicate ids, days past the horizon, min above max."""
    found = _Errors(inp.horizon_days)
    shift_ids = found.unique_ids(inp.shifts, "shifts")
    staff_ids = found.unique_ids(inp.staff, "staff")
    for i, shift in enumerate(inp.shifts):
        for j, other in enumerate(shift.cannot_follow):
            found.unknown(f"shifts[{i}].cannot_follow[{j}]", "shift", other, shift_ids)
    for i, person in enumerate(inp.staff):
        _check_person(found, f"staff[{i}]", person, shift_ids)
    for section in ("shift_on_requests", "shift_off_requests"):
        for i, request in enumerate(getattr(inp, section)):
            found.unknown(f"{section}[{i}].staff", "staff", request.staff, staff_ids)
            found.day(f"{section}[{i}].day", request.day)
            found.unknown(f"{section}[{i}].shift", "shift", request.shift, shift_ids)
    first_cover: dict[tuple[int, str], int] = {}
    for i, cover in enumerate(inp.cover):
        found.day(f"cover[{i}].day", cover.day)
        found.unknown(f"cover[{i}].shift", "shift", cover.shift, shift_ids)
        first = first_cover.setdefault((cover.day, cover.shift), i)
        if first != i:
            found.add(f"cover[{i}]", f"duplicate cover for day {cover.day}, shift {cover.shift!r} (see cover[{first}])")
    size = len(inp.staff) * inp.horizon_days * len(inp.shifts)
    if size > MAX_ASSIGNMENTS:
        found.add("(root)", f"too large: staff x days x shifts = {size}, at most {MAX_ASSIGNMENTS}")
    return found.errors


def _check_person(found: _Errors, where: str, person: Staff, shift_ids: set[str]) -> None:
    for shift_id in person.max_shifts:
        found.unknown(f"{where}.max_shifts.{shift_id}", "shift", shift_id, shift_ids)
    for field, least, most in [
        ("min_total_minutes", person.min_total_minutes, person.max_total_minutes),
        ("min_consecutive_shifts", person.min_consecutive_shifts, person.max_consecutive_shifts),
    ]:
        if most is not None and least > most:
            found.add(f"{where}.{field}", f"{least} is more than {field.replace('min_', 'max_')} ({most})")
    for j, day in enumerate(person.days_off):
        found.day(f"{where}.days_off[{j}]", day)


class _Errors:
    """Collects cross-reference problems, each with the path of the field at fault."""

    def __init__(self, horizon_days: int) -> None:
        self.horizon_days = horizon_days
        self.errors: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def unknown(self, path: str, kind: str, value: str, known: set[str]) -> None:
        if value not in known:
            self.add(path, f"unknown {kind} {value!r}")

    def day(self, path: str, day: int) -> None:
        if day >= self.horizon_days:
            self.add(path, f"day {day} is outside the horizon (days 0..{self.horizon_days - 1})")

    def unique_ids(self, items: list[Shift] | list[Staff], section: str) -> set[str]:
        """The ids in `items`, reporting each repeat."""
        first_seen: dict[str, int] = {}
        for i, item in enumerate(items):
            first = first_seen.setdefault(item.id, i)
            if first != i:
                self.add(f"{section}[{i}].id", f"duplicate id {item.id!r} (see {section}[{first}])")
        return set(first_seen)
