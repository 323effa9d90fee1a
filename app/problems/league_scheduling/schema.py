"""The league input, as an organiser describes a season: dates, divisions of teams, venues, rules.

The pydantic models check each field on its own (types, bounds, no unknown fields); `validate()` then
checks what refers to what (known team and venue ids, dates inside the season, kick-offs far enough
apart for a game) and reports every problem with the path a user typed, e.g. `divisions[2].teams[0].venue`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from app.problems.base import InputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SEASON_DAYS = 366
MAX_WEIGHT = 100_000
# Keeps one request from building a model that would exhaust a worker's memory (games x dates).
MAX_GAME_DATES = 400_000


def _no_outer_space(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with spaces")
    return value


def _clock(value: str) -> str:
    try:
        dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a time of day like '09:30'") from None
    if len(value) != 5:
        raise ValueError("must be a time of day like '09:30'")
    return value


Id = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_outer_space)]
Name = Annotated[str, Field(max_length=200)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, AfterValidator(_clock)]
Weight = Annotated[int, Field(ge=0, le=MAX_WEIGHT)]


class _Strict(BaseModel):
    # Extra fields are typos to report. Dates come as ISO strings, so strictness is per field.
    model_config = ConfigDict(extra="forbid")


class Season(_Strict):
    """When games may be played."""

    start: dt.date = Field(description="First day of the season (YYYY-MM-DD).")
    end: dt.date = Field(description="Last day of the season (YYYY-MM-DD).")
    weekdays: list[Weekday] = Field(
        default_factory=lambda: ["sat", "sun"], min_length=1, description="Weekdays games may be played on."
    )
    blackout_dates: list[dt.date] = Field(default_factory=list, description="No games anywhere on these dates.")


class Team(_Strict):
    id: Id = Field(description="Short unique id, e.g. 'LIONS'.")
    name: Name = ""
    venue: Id | None = Field(default=None, description="The team's home venue (id), if it has one.")
    blackout_dates: list[dt.date] = Field(default_factory=list, description="Dates this team cannot play.")


class Division(_Strict):
    """A pool of teams that play each other."""

    id: Id
    name: Name = ""
    teams: list[Team] = Field(min_length=2, max_length=64)
    round_robin: int | None = Field(
        default=None, ge=1, le=4, description="Every pair meets this many times (1 = single, 2 = double)."
    )
    games_per_team: int | None = Field(
        default=None, ge=1, le=60, description="Or: each team plays this many division games (odd totals: one bye)."
    )


class Venue(_Strict):
    id: Id
    name: Name = ""
    fields: list[Id] = Field(default_factory=lambda: ["1"], min_length=1, max_length=50, description="Pitches/courts.")
    kickoffs: dict[Weekday, list[Clock]] = Field(description="Kick-off times per weekday, e.g. {'sat': ['10:00']}.")
    blackout_dates: list[dt.date] = Field(default_factory=list)
    x_km: float | None = Field(default=None, description="Position east, km (for travel distances).")
    y_km: float | None = Field(default=None, description="Position north, km.")


class Pairing(_Strict):
    teams: Annotated[list[Id], Field(min_length=2, max_length=2)]


class FixedGame(_Strict):
    """A game that must be played on a given date (e.g. a derby)."""

    home: Id
    away: Id
    date: dt.date
    venue: Id | None = None
    field: Id | None = None
    kickoff: Clock | None = None


class Toggle(_Strict):
    on: bool = True


class Limit(_Strict):
    on: bool = True
    value: int = Field(ge=0, le=60)
    hard: bool = True
    weight: Weight = 10


class Soft(_Strict):
    on: bool = True
    weight: Weight = 1


class FairKickoffs(_Strict):
    on: bool = True
    weight: Weight = 1
    max_share: float = Field(
        default=0.5, gt=0, le=1, description="Most of a team's games in the day's earliest (or latest) slot."
    )


class Rules(_Strict):
    min_rest_days: Limit = Field(
        default_factory=lambda: Limit(value=1), description="Days without a game between two of a team's games (hard)."
    )
    max_games_per_week: Limit = Field(default_factory=lambda: Limit(value=1), description="Per team, Monday-Sunday.")
    max_consecutive_home_away: Limit = Field(
        default_factory=lambda: Limit(value=3), description="Most home (or away) games in a row (hard)."
    )
    no_early_repeats: Toggle = Field(
        default_factory=Toggle, description="No pairing repeated before every pairing of the division has played."
    )
    home_away_balance: Soft = Field(default_factory=lambda: Soft(weight=5), description="Per game of imbalance past 1.")
    home_venue: Soft = Field(default_factory=lambda: Soft(weight=3), description="A home game away from home venue.")
    fair_kickoffs: FairKickoffs = Field(default_factory=FairKickoffs)
    travel: Soft = Field(default_factory=lambda: Soft(weight=1), description="Per 10 km an away team travels.")
    unplaced: Soft = Field(default_factory=lambda: Soft(weight=1000), description="Per game left without a date.")


class Input(_Strict):
    """A league season: schedule every game of every division on a date, venue, field and kick-off."""

    name: Name = ""
    season: Season
    game_minutes: int = Field(default=90, ge=5, le=600)
    divisions: list[Division] = Field(min_length=1, max_length=200)
    venues: list[Venue] = Field(min_length=1, max_length=500)
    cross_division_games: list[Pairing] = Field(default_factory=list, description="Extra games across divisions.")
    fixed_games: list[FixedGame] = Field(default_factory=list)
    forbidden_pairings: list[Pairing] = Field(default_factory=list, description="These teams never meet.")
    rules: Rules = Field(default_factory=Rules)

    def teams(self) -> list[Team]:
        return [t for d in self.divisions for t in d.teams]


def validate(payload: Any) -> Input:
    """The Input described by a parsed JSON document; InputError (with field paths) if it is not valid."""
    if isinstance(payload, Input):
        return payload
    try:
        inp = Input.model_validate(payload)
    except PydanticValidationError as exc:
        raise InputError.from_pydantic(exc) from None
    errors = cross_check(inp)
    if errors:
        raise InputError(errors)
    return inp


def cross_check(inp: Input) -> list[dict[str, str]]:
    """Problems between fields: unknown or duplicate ids, dates outside the season, impossible formats."""
    errors: list[dict[str, str]] = []

    def add(path: str, message: str) -> None:
        errors.append({"path": path, "message": message})

    s = inp.season
    if s.end < s.start:
        add("season.end", f"{s.end} is before season.start ({s.start})")
    elif (s.end - s.start).days >= MAX_SEASON_DAYS:
        add("season.end", f"the season is longer than {MAX_SEASON_DAYS} days")
    venue_ids = _unique(add, "venues", [v.id for v in inp.venues])
    team_ids: dict[str, str] = {}
    for i, div in enumerate(inp.divisions):
        where = f"divisions[{i}]"
        if (div.round_robin is None) == (div.games_per_team is None):
            add(where, "give exactly one of round_robin or games_per_team")
        for j, team in enumerate(div.teams):
            if team.id in team_ids:
                add(f"{where}.teams[{j}].id", f"duplicate team id {team.id!r} (see {team_ids[team.id]})")
            team_ids.setdefault(team.id, f"{where}.teams[{j}]")
            if team.venue is not None and team.venue not in venue_ids:
                add(f"{where}.teams[{j}].venue", f"unknown venue {team.venue!r}")
            _dates(add, s, f"{where}.teams[{j}].blackout_dates", team.blackout_dates)
    _unique(add, "divisions", [d.id for d in inp.divisions])
    _dates(add, s, "season.blackout_dates", s.blackout_dates)
    for i, venue in enumerate(inp.venues):
        _check_venue(add, inp, f"venues[{i}]", venue)
    for section in ("cross_division_games", "forbidden_pairings"):
        for i, pair in enumerate(getattr(inp, section)):
            for j, team in enumerate(pair.teams):
                if team not in team_ids:
                    add(f"{section}[{i}].teams[{j}]", f"unknown team {team!r}")
            if pair.teams[0] == pair.teams[1]:
                add(f"{section}[{i}].teams", "a team cannot play itself")
    for i, game in enumerate(inp.fixed_games):
        _check_fixed(add, inp, f"fixed_games[{i}]", game, team_ids, venue_ids)
    for rule in ("min_rest_days", "max_consecutive_home_away"):  # soft versions are not offered
        if not getattr(inp.rules, rule).hard:
            add(f"rules.{rule}.hard", "this rule is always hard (turn it off with on: false instead)")
    size = sum(len(d.teams) * 4 for d in inp.divisions) * ((s.end - s.start).days + 1)
    if size > MAX_GAME_DATES * 4:
        add("(root)", "too large: teams x season days is over the limit")
    return errors


def _unique(add, section: str, ids: list[str]) -> set[str]:
    first: dict[str, int] = {}
    for i, item in enumerate(ids):
        if first.setdefault(item, i) != i:
            add(f"{section}[{i}].id", f"duplicate id {item!r} (see {section}[{first[item]}])")
    return set(first)


def _dates(add, season: Season, path: str, dates: list[dt.date]) -> None:
    for j, day in enumerate(dates):
        if not season.start <= day <= season.end:
            add(f"{path}[{j}]", f"{day} is outside the season ({season.start} to {season.end})")


def _check_venue(add, inp: Input, where: str, venue: Venue) -> None:
    _unique(add, f"{where}.fields", venue.fields)
    _dates(add, inp.season, f"{where}.blackout_dates", venue.blackout_dates)
    if (venue.x_km is None) != (venue.y_km is None):
        add(where, "give both x_km and y_km, or neither")
    for day, times in venue.kickoffs.items():
        minutes = sorted(_minutes(t) for t in times)
        for a, b in zip(minutes, minutes[1:], strict=False):
            if b - a < inp.game_minutes:
                add(
                    f"{where}.kickoffs.{day}",
                    f"kick-offs {a // 60:02d}:{a % 60:02d} and {b // 60:02d}:{b % 60:02d}"
                    f" are closer than a game ({inp.game_minutes} min)",
                )
        if len(set(times)) != len(times):
            add(f"{where}.kickoffs.{day}", "repeated kick-off time")


def _check_fixed(add, inp: Input, where: str, game: FixedGame, team_ids: dict, venue_ids: set[str]) -> None:
    for side in ("home", "away"):
        if getattr(game, side) not in team_ids:
            add(f"{where}.{side}", f"unknown team {getattr(game, side)!r}")
    if game.home == game.away:
        add(f"{where}.away", "a team cannot play itself")
    _dates(add, inp.season, f"{where}.date", [game.date])
    if game.venue is not None and game.venue not in venue_ids:
        add(f"{where}.venue", f"unknown venue {game.venue!r}")
    if (game.field is not None or game.kickoff is not None) and game.venue is None:
        add(f"{where}.venue", "give the venue when fixing a field or kick-off")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)
