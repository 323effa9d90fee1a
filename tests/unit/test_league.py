"""League scheduling: validation names the field, each rule on a small hand-made league, the checker
catches corrupted schedules, the exports are safe. Every schedule a test produces goes through check()."""

from __future__ import annotations

import copy
import datetime as dt
import time

import pytest

from app.problems.base import InputError
from app.problems.league_scheduling import PROBLEM, check, validate
from app.problems.league_scheduling.pages import games_csv, league_ics, page_context, teams_zip
from workers.runner import Search

SAT = "2027-04-03"  # a Saturday


def league(teams: int = 4, weekends: int = 4, **fields) -> dict:
    """A valid one-division league: teams T1..Tn at venue V1 (one field, 10:00 and 12:00 on Saturdays)."""
    division = {"id": "A", "teams": [{"id": f"T{i + 1}", "venue": "V1"} for i in range(teams)], "round_robin": 1}
    division.update(fields.pop("division", {}))
    return {
        "season": {
            "start": SAT,
            "end": str(dt.date.fromisoformat(SAT) + dt.timedelta(days=7 * (weekends - 1))),
            "weekdays": ["sat"],
        },
        "divisions": [division],
        "venues": [{"id": "V1", "kickoffs": {"sat": ["10:00", "12:00"]}}],
        **fields,
    }


def solve(payload: dict, seconds: float = 8) -> tuple[dict, object]:
    """Run the league's own search strategy with the runner's context; return (schedule, check)."""
    inp = validate(payload)
    t0 = time.monotonic()
    ctx = Search(PROBLEM, inp, threads=2, seed=0, deadline=t0 + seconds, elapsed=lambda: time.monotonic() - t0)
    PROBLEM.search(ctx)
    solution, _ = ctx.incumbent()
    result = check(inp, solution)
    assert result.ok, result.violations
    return solution, result


def placed(solution: dict) -> list[dict]:
    return [g for g in solution["games"] if g["date"]]


def paths(exc: pytest.ExceptionInfo) -> list[str]:
    return [e["path"] for e in exc.value.errors]


# --- validation ---------------------------------------------------------------------------------


def test_errors_name_the_field():
    bad = league()
    bad["divisions"][0]["teams"][1]["venue"] = "NOWHERE"
    bad["venues"][0]["kickoffs"]["sat"] = ["10:00", "10:30"]
    bad["season"]["blackout_dates"] = ["2026-01-01"]
    bad["fixed_games"] = [{"home": "T1", "away": "T9", "date": SAT}]
    bad["divisions"][0]["round_robin"] = None  # neither format given
    bad["rules"] = {"min_rest_days": {"value": 1, "hard": False}}
    with pytest.raises(InputError) as exc:
        validate(bad)
    assert set(paths(exc)) == {
        "divisions[0]",
        "rules.min_rest_days.hard",
        "divisions[0].teams[1].venue",
        "venues[0].kickoffs.sat",
        "season.blackout_dates[0]",
        "fixed_games[0].away",
    }


def test_type_errors_and_missing_format_name_the_field():
    bad = league()
    bad["venues"][0]["kickoffs"]["sat"] = ["25:99"]
    bad["season"]["weekdays"] = ["someday"]
    with pytest.raises(InputError) as exc:
        validate(bad)
    assert {"venues[0].kickoffs.sat[0]", "season.weekdays[0]"} <= set(paths(exc))


# --- rules --------------------------------------------------------------------------------------


def test_a_single_round_robin_of_four_is_complete_and_costs_nothing():
    rules = {"travel": {"on": False}, "fair_kickoffs": {"on": False}}
    solution, result = solve(league(teams=4, weekends=3, rules=rules))
    assert len(placed(solution)) == 6
    assert result.objective == 0


def test_one_game_per_week_leaves_what_cannot_fit_unplaced_with_the_reason():
    # 4 teams, single round robin = 3 rounds, but only 2 Saturdays: 2 games must stay unplaced.
    solution, result = solve(league(teams=4, weekends=2))
    assert len(placed(solution)) == 4
    unplaced = [p for p in result.penalties if p.rule == "unplaced"]
    assert len(unplaced) == 2 and all(p.detail.startswith("no date works: ") for p in unplaced)
    assert all(("plays or rests" in p.detail) or ("no free slot" in p.detail) for p in unplaced)


def test_team_blackout_is_respected_and_named():
    payload = league(teams=2, weekends=1)
    payload["divisions"][0]["teams"][0]["blackout_dates"] = [SAT]
    solution, result = solve(payload)
    assert placed(solution) == []
    assert "T1 blacked out" in result.penalties[0].detail


def test_double_round_robin_alternates_hosts_and_repeats_only_after_every_pairing():
    solution, _ = solve(league(teams=4, weekends=6, division={"round_robin": 2}), seconds=10)
    games = placed(solution)
    assert len(games) == 12
    first_half = sorted(g["date"] for g in games)[:6]
    assert len({tuple(sorted((g["home"], g["away"]))) for g in games if g["date"] in first_half}) == 6
    hosts = {(g["home"], g["away"]) for g in games}
    assert all((b, a) in hosts for a, b in hosts)


def weekend(**rules) -> dict:
    """Two teams, one weekend (Saturday and Sunday, one kick-off each), a double round robin."""
    payload = league(teams=2, weekends=1, division={"round_robin": 2}, rules=rules)
    payload["season"]["weekdays"] = ["sat", "sun"]
    payload["season"]["end"] = "2027-04-04"
    payload["venues"][0]["kickoffs"] = {"sat": ["10:00"], "sun": ["10:00"]}
    return payload


def test_rest_days_keep_a_team_from_playing_saturday_and_sunday():
    solution, result = solve(weekend(max_games_per_week={"value": 2}))
    assert len(placed(solution)) == 1 and result.objective == 1000


def test_without_rest_days_both_legs_fit_one_weekend():
    solution, result = solve(weekend(min_rest_days={"value": 0}, max_games_per_week={"value": 2}))
    assert len(placed(solution)) == 2 and result.objective == 0


def test_a_soft_weekly_limit_costs_its_weight_instead_of_a_game():
    rules = {"min_rest_days": {"value": 0}, "max_games_per_week": {"value": 1, "hard": False, "weight": 7}}
    solution, result = solve(weekend(**rules))
    assert len(placed(solution)) == 2 and result.objective == 14  # each team is one game over
    assert [(p.rule, p.who) for p in result.penalties] == [("max_games_per_week", "T1"), ("max_games_per_week", "T2")]


def test_at_most_one_home_game_in_a_row_means_alternating():
    payload = league(
        teams=2, weekends=4, division={"round_robin": 4}, rules={"max_consecutive_home_away": {"value": 1}}
    )
    solution, _ = solve(payload)
    hosts = [g["home"] for g in sorted(placed(solution), key=lambda g: g["date"])]
    assert len(hosts) == 4 and all(a != b for a, b in zip(hosts, hosts[1:], strict=False))


def test_games_per_team_with_an_odd_total_gives_one_bye():
    solution, _ = solve(league(teams=5, weekends=4, division={"round_robin": None, "games_per_team": 3}))
    assert len(solution["games"]) == 7  # 5 x 3 / 2, rounded down


def test_home_away_balance_reaches_its_optimum():
    # Single round robin of 4: each team plays 3, so 2-1 is the best balance: cost 0.
    _, result = solve(league(teams=4, weekends=3, rules={"travel": {"on": False}, "home_away_balance": {"weight": 7}}))
    assert not [p for p in result.penalties if p.rule == "home_away_balance"]


def test_forbidden_pairing_never_meets_and_fixed_game_is_kept():
    payload = league(teams=4, weekends=3)
    payload["forbidden_pairings"] = [{"teams": ["T1", "T2"]}]
    payload["fixed_games"] = [{"home": "T4", "away": "T3", "date": "2027-04-17", "venue": "V1", "kickoff": "12:00"}]
    solution, _ = solve(payload)
    pairs = {tuple(sorted((g["home"], g["away"]))) for g in solution["games"]}
    assert ("T1", "T2") not in pairs
    assert any(
        (g["home"], g["away"], g["date"], g["kickoff"]) == ("T4", "T3", "2027-04-17", "12:00")
        for g in solution["games"]
    )


def test_full_home_venue_moves_a_game_and_the_penalty_says_where():
    payload = league(teams=4, weekends=3)
    payload["venues"][0]["kickoffs"]["sat"] = ["10:00"]  # room for one game at V1 per Saturday
    payload["venues"].append({"id": "V2", "kickoffs": {"sat": ["10:00"]}})
    solution, result = solve(payload)
    assert len(placed(solution)) == 6
    moved = [p for p in result.penalties if p.rule == "home_venue"]
    assert len(moved) == 3 and all("at V2, not V1" in p.detail for p in moved)


def test_a_checkpoint_comes_back_as_the_same_plan(medium):
    from app.problems.league_scheduling import games, model, slots
    from app.problems.league_scheduling.season import Calendar

    inp, solution = medium
    cal = Calendar(inp)
    season = games.from_schedule(inp, cal, solution)
    plan = model.plan_from_solution(cal, season, solution)
    again = slots.schedule(cal, season, plan, slots.greedy(cal, season, plan))
    key = lambda g: (g["date"], g["home"], g["away"])  # noqa: E731
    assert sorted(map(key, again["games"]), key=str) == sorted(map(key, solution["games"]), key=str)
    assert model.plan_from_solution(cal, season, {"games": solution["games"][1:]}) == {}


def test_a_resumed_search_starts_from_its_checkpoint_and_never_loses_ground(medium):
    inp, solution = medium
    before = check(inp, solution).objective
    t0 = time.monotonic()
    ctx = Search(
        PROBLEM, inp, threads=2, seed=1, deadline=t0 + 3, elapsed=lambda: time.monotonic() - t0, checkpoint=solution
    )
    assert ctx.report(solution)  # what the runner does before the strategy starts
    PROBLEM.search(ctx)
    best, objective = ctx.incumbent()
    assert check(inp, best).ok and objective <= before


# --- the checker --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def medium():
    inp = PROBLEM.demos["medium"]()
    t0 = time.monotonic()
    ctx = Search(PROBLEM, inp, threads=2, seed=0, deadline=t0 + 3, elapsed=lambda: time.monotonic() - t0)
    PROBLEM.search(ctx)
    return inp, ctx.incumbent()[0]


@pytest.mark.parametrize(
    "corrupt, words",
    [
        (
            lambda gs: gs[1].update(
                date=gs[0]["date"], kickoff=gs[0]["kickoff"], venue=gs[0]["venue"], field=gs[0]["field"]
            ),
            "share",
        ),
        (lambda gs: gs[0].update(kickoff="03:00"), "has no kick-off"),
        (lambda gs: gs.pop(), "time(s)"),
        (lambda gs: gs[0].update(date="2027-03-03"), "not a playing date"),
        (lambda gs: gs.append(dict(gs[0], id="x")), "time(s)"),
    ],
)
def test_checker_catches_corrupted_schedules(medium, corrupt, words):
    inp, solution = medium
    assert check(inp, solution).ok
    bad = copy.deepcopy(solution)
    placed_games = [g for g in bad["games"] if g["date"]]
    corrupt(placed_games if words != "time(s)" else bad["games"])
    result = check(inp, bad)
    assert not result.ok and any(words in v for v in result.violations), result.violations[:3]


def test_checker_catches_a_team_playing_twice_in_a_weekend(medium):
    inp, solution = medium
    bad = copy.deepcopy(solution)
    games = [g for g in bad["games"] if g["date"] and "A1" in (g["home"], g["away"])]
    games[1]["date"] = games[0]["date"]
    assert any("A1 plays twice" in v or "rest day" in v for v in check(inp, bad).violations)


# --- pages and exports --------------------------------------------------------------------------


def test_csv_neutralises_formulas_and_ics_parses(medium):
    inp, solution = medium
    raw = inp.model_dump(mode="json")
    result = {"solution": copy.deepcopy(solution), "breakdown": []}
    result["solution"]["games"][0]["venue"] = "=HYPERLINK(1)"
    text = games_csv(raw, result)
    assert "'=HYPERLINK(1)" in text and text.splitlines()[0].startswith("id,division,date")
    import icalendar

    cal = icalendar.Calendar.from_ical(league_ics(raw, result))
    assert len(cal.walk("VEVENT")) == sum(1 for g in solution["games"] if g["date"])
    assert len(teams_zip(raw, result)) > 100
    ctx = page_context(raw, result, {"division": "B", "date": "nope", "team": "B2"})["league"]
    assert ctx["division"] == "B" and ctx["team"] == "B2" and ctx["date"] == ctx["dates"][0]
    assert all(g["side"] in ("home", "away") for g in ctx["fixtures"] if g["date"])


@pytest.mark.parametrize("name", ["small", "medium", "200_teams"])
def test_the_estimate_bounds_the_whole_season_date_model(name):
    from app.problems.league_scheduling import estimate, model

    inp = PROBLEM.demos[name]()
    built, _ = model.build(inp)
    size = estimate(inp)
    assert len(built.proto.variables) <= size["variables"] <= 1.5 * len(built.proto.variables)
    assert len(built.proto.constraints) <= size["constraints"] <= 1.5 * len(built.proto.constraints)
