"""The round-robin input: teams, slots, the constraints of the ITC2021 classes, optional distances.

A compact double round robin: n teams (n even) play in 2(n-1) slots, every team exactly once per slot,
every ordered pair (home, away) exactly once. The constraint classes and their field names follow the
RobinX format (Van Bulck et al.) so an importer and a planner read the same words; lists replace
RobinX's ";"-separated strings. `validate()` checks what refers to what (team and slot indices, the
number of slots) and reports each problem with the path a user typed, e.g. `constraints[3].teams[1]`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from app.problems.base import InputError

MAX_TEAMS = 40
MAX_CONSTRAINTS = 50_000
MAX_PENALTY = 1_000_000
MAX_DISTANCE = 10_000_000

Index = Annotated[int, Field(ge=0, lt=1000)]
Count = Annotated[int, Field(ge=0, le=10_000)]
Kind = Literal["HARD", "SOFT"]
Venue = Literal["H", "A"]
VenueOrBoth = Literal["H", "A", "HA"]


class _Strict(BaseModel):
    # Strict: "5" or 5.0 are not silently taken for 5; extra fields are typos to report.
    model_config = ConfigDict(extra="forbid", strict=True)


class _Constraint(_Strict):
    type: Kind = Field(description="HARD: must hold. SOFT: each unit of deviation costs `penalty`.")
    penalty: int = Field(default=1, ge=0, le=MAX_PENALTY, description="Cost per unit of deviation (SOFT).")


class CA1(_Constraint):
    """Each team of `teams` plays at least `min`, at most `max` home (mode H) or away (A) games in `slots`."""

    constraint: Literal["CA1"]
    teams: list[Index] = Field(min_length=1)
    slots: list[Index] = Field(min_length=1)
    mode: Venue
    min: Count = 0
    max: Count


class CA2(_Constraint):
    """Each team of `teams1` plays at most `max` games of `mode1` against teams of `teams2` in `slots`."""

    constraint: Literal["CA2"]
    teams1: list[Index] = Field(min_length=1)
    teams2: list[Index] = Field(min_length=1)
    slots: list[Index] = Field(min_length=1)
    mode1: VenueOrBoth
    min: Count = 0
    max: Count


class CA3(_Constraint):
    """Like CA2, in every window of `intp` consecutive slots."""

    constraint: Literal["CA3"]
    teams1: list[Index] = Field(min_length=1)
    teams2: list[Index] = Field(min_length=1)
    intp: int = Field(ge=1, le=1000)
    mode1: VenueOrBoth
    min: Count = 0
    max: Count


class CA4(_Constraint):
    """`teams1` together play at most `max` games of `mode1` against `teams2`, in all `slots` or in each."""

    constraint: Literal["CA4"]
    teams1: list[Index] = Field(min_length=1)
    teams2: list[Index] = Field(min_length=1)
    slots: list[Index] = Field(min_length=1)
    mode1: VenueOrBoth
    mode2: Literal["GLOBAL", "EVERY"]
    min: Count = 0
    max: Count


class GA1(_Constraint):
    """Between `min` and `max` of the listed `meetings` (home, away) take place in `slots`."""

    constraint: Literal["GA1"]
    meetings: list[Annotated[list[Index], Field(min_length=2, max_length=2)]] = Field(min_length=1)
    slots: list[Index] = Field(min_length=1)
    min: Count = 0
    max: Count


class BR1(_Constraint):
    """Each team of `teams` has at most `intp` breaks (of `mode2`: home, away or both) in `slots`."""

    constraint: Literal["BR1"]
    teams: list[Index] = Field(min_length=1)
    slots: list[Index] = Field(min_length=1)
    mode2: VenueOrBoth = "HA"
    intp: Count


class BR2(_Constraint):
    """`teams` together have at most `intp` breaks in `slots`."""

    constraint: Literal["BR2"]
    teams: list[Index] = Field(min_length=1)
    slots: list[Index] = Field(min_length=1)
    intp: Count


class FA2(_Constraint):
    """After every slot of `slots`, any two of `teams` have played numbers of home games at most `intp` apart."""

    constraint: Literal["FA2"]
    teams: list[Index] = Field(min_length=2)
    slots: list[Index] = Field(min_length=1)
    intp: Count


class SE1(_Constraint):
    """Each pair of `teams` has at least `min` (at most `max`) slots between its two meetings."""

    constraint: Literal["SE1"]
    teams: list[Index] = Field(min_length=2)
    min: Count = 0
    max: Count | None = None


Constraint = Annotated[CA1 | CA2 | CA3 | CA4 | GA1 | BR1 | BR2 | FA2 | SE1, Field(discriminator="constraint")]
CLASSES = ("CA1", "CA2", "CA3", "CA4", "GA1", "BR1", "BR2", "FA2", "SE1")


class Input(_Strict):
    """A time-constrained double round robin (ITC2021) or a traveling tournament (with distances)."""

    name: str = Field(default="round robin", max_length=200)
    teams: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=2, max_length=MAX_TEAMS, description="Team names; a team is referred to by its index."
    )
    phased: bool = Field(default=False, description="The first n-1 slots form a single round robin.")
    constraints: list[Constraint] = Field(default_factory=list, max_length=MAX_CONSTRAINTS)
    distances: list[list[Annotated[int, Field(ge=0, le=MAX_DISTANCE)]]] | None = Field(
        default=None, description="Traveling tournament: n x n distances; the objective adds the total travel."
    )

    @property
    def n(self) -> int:
        return len(self.teams)

    @property
    def num_slots(self) -> int:
        return 2 * (self.n - 1)


def validate(payload: Any) -> Input:
    """Input from parsed JSON; InputError with field paths for anything wrong."""
    try:
        inp = Input.model_validate(payload)
    except PydanticValidationError as exc:
        raise InputError.from_pydantic(exc) from None
    errors = _reference_errors(inp)
    if errors:
        raise InputError(errors)
    return inp


def _reference_errors(inp: Input) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if inp.n % 2:
        errors.append({"path": "teams", "message": f"a compact round robin needs an even number of teams, got {inp.n}"})
    if inp.distances is not None:
        if len(inp.distances) != inp.n or any(len(row) != inp.n for row in inp.distances):
            errors.append({"path": "distances", "message": f"must be a {inp.n} x {inp.n} matrix"})
    for k, con in enumerate(inp.constraints):
        errors += _constraint_errors(inp, con, f"constraints[{k}]")
    return errors[:50]


def _constraint_errors(inp: Input, con: Any, path: str) -> list[dict[str, str]]:
    errors = []
    for field in ("teams", "teams1", "teams2"):
        for i, team in enumerate(getattr(con, field, None) or []):
            if team >= inp.n:
                errors.append({"path": f"{path}.{field}[{i}]", "message": f"no team {team} (teams 0..{inp.n - 1})"})
    for i, slot in enumerate(getattr(con, "slots", None) or []):
        if slot >= inp.num_slots:
            errors.append({"path": f"{path}.slots[{i}]", "message": f"no slot {slot} (slots 0..{inp.num_slots - 1})"})
    for i, meeting in enumerate(getattr(con, "meetings", None) or []):
        if meeting[0] == meeting[1] or max(meeting) >= inp.n:
            errors.append(
                {"path": f"{path}.meetings[{i}]", "message": f"not a game between two teams: {list(meeting)}"}
            )
    return errors
