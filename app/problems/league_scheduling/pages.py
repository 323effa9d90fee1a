"""The league's pages and downloads: calendar of rounds, team grid, venue day, fixture lists, CSV, .ics.

Pages stay bounded for a 200-team season: the round calendar shows counts per (date, division); the
team grid, the venue day and the fixture list show one division, one date and one team at a time,
chosen with query arguments (?division=D01&date=2027-03-06&team=D01T1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import icalendar

UNPLACED_SHOWN = 100


def _games(result: dict) -> list[dict]:
    return list((result.get("solution") or {}).get("games") or [])


def page_context(inp: dict, result: dict, query: Mapping[str, str]) -> dict:
    """Context for templates/problems/league_scheduling/_result.html."""
    games = _games(result)
    divisions = [
        {"id": d["id"], "name": d.get("name") or d["id"], "teams": [t["id"] for t in d["teams"]]}
        for d in inp["divisions"]
    ]
    division_of = {t: d["id"] for d in divisions for t in d["teams"]}
    dates = sorted({g["date"] for g in games if g["date"]})
    division = _choice(query.get("division"), [d["id"] for d in divisions])
    date = _choice(query.get("date"), dates)
    teams = next(d["teams"] for d in divisions if d["id"] == division)
    team = _choice(query.get("team"), [t for d in divisions for t in d["teams"]], default=teams[0])
    unplaced = next((r for r in result.get("breakdown", []) if r["rule"] == "unplaced"), {"items": []})
    return {
        "league": {
            "dates": dates,
            "divisions": divisions,
            "division": division,
            "date": date,
            "team": team,
            "rounds": _rounds(games, dates, divisions, division_of),
            "grid": _team_grid(games, dates, teams),
            "venue_day": _venue_day(inp, games, date),
            "fixtures": _fixtures(games, team),
            "venue_names": {v["id"]: v.get("name") or v["id"] for v in inp["venues"]},
            "unplaced": unplaced["items"][:UNPLACED_SHOWN],
            "unplaced_count": len(unplaced["items"]),
            "placed_count": sum(1 for g in games if g["date"]),
            "game_count": len(games),
        }
    }


def _choice(value: str | None, options: list[str], default: str | None = None) -> str | None:
    if value in options:
        return value
    return default if default is not None else (options[0] if options else None)


def _rounds(games, dates, divisions, division_of) -> list[dict]:
    """Games per (date, division): the season at a glance, one row per date."""
    count = Counter((g["date"], division_of[g["home"]]) for g in games if g["date"])
    return [{"date": d, "weekday": _weekday(d), "cells": [count[d, div["id"]] for div in divisions]} for d in dates]


def _team_grid(games, dates, teams) -> list[dict]:
    """Team x date for one division: 'H v X' / 'A @ X' in each played cell."""
    cells: dict[str, dict[str, str]] = defaultdict(dict)
    for g in games:
        if g["date"] and g["home"] in teams:
            cells[g["home"]][g["date"]] = f"H {g['away']}"
        if g["date"] and g["away"] in teams:
            cells[g["away"]][g["date"]] = f"A {g['home']}"
    return [{"team": t, "cells": [cells[t].get(d, "") for d in dates]} for t in teams]


def _venue_day(inp: dict, games: list[dict], date: str | None) -> dict:
    """Fields x kick-offs of every venue with a game on `date`."""
    day_games = [g for g in games if g["date"] == date]
    kickoffs = sorted({g["kickoff"] for g in day_games})
    at = {(g["venue"], g["field"], g["kickoff"]): g for g in day_games}
    rows = sorted({(g["venue"], g["field"]) for g in day_games})
    names = {v["id"]: v.get("name") or v["id"] for v in inp["venues"]}
    return {
        "kickoffs": kickoffs,
        "rows": [
            {"venue": names.get(v, v), "field": f, "cells": [at.get((v, f, k)) for k in kickoffs]} for v, f in rows
        ],
    }


def _fixtures(games: list[dict], team: str | None) -> list[dict]:
    out = []
    for g in games:
        if team in (g["home"], g["away"]):
            home = g["home"] == team
            out.append({**g, "side": "home" if home else "away", "opponent": g["away"] if home else g["home"]})
    return out


def _weekday(date: str) -> str:
    return dt.date.fromisoformat(date).strftime("%a")


# --- downloads ------------------------------------------------------------------------------------

CSV_FIELDS = ["id", "division", "date", "kickoff", "venue", "field", "home", "away"]


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (=, +, -, @ start one)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def games_csv(inp: dict, result: dict) -> str:
    """Every game, one row each; unplaced games have empty date, kick-off, venue and field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for g in _games(result):
        writer.writerow([_cell(g.get(k)) for k in CSV_FIELDS])
    return out.getvalue()


def _calendar(inp: dict, games: list[dict], name: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//SolveQueue//League scheduling//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    minutes = int(inp.get("game_minutes", 90))
    venues = {v["id"]: v.get("name") or v["id"] for v in inp["venues"]}
    for g in games:
        if not g["date"]:
            continue
        start = dt.datetime.combine(dt.date.fromisoformat(g["date"]), dt.time.fromisoformat(g["kickoff"]))
        event = icalendar.Event()
        event.add("uid", f"{g['id']}-{g['home']}-{g['away']}@solvequeue")
        event.add("summary", f"{g['home']} v {g['away']}")
        event.add("dtstart", start)  # floating local time: the venue's own clock
        event.add("dtend", start + dt.timedelta(minutes=minutes))
        event.add("dtstamp", dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        event.add("location", f"{venues.get(g['venue'], g['venue'])}, field {g['field']}")
        cal.add_component(event)
    return cal


def league_ics(inp: dict, result: dict) -> bytes:
    """The whole league's games as one iCalendar file."""
    return _calendar(inp, _games(result), inp.get("name") or "League").to_ical()


def team_ics(inp: dict, result: dict, team: str) -> bytes:
    games = [g for g in _games(result) if team in (g["home"], g["away"])]
    return _calendar(inp, games, team).to_ical()


def teams_zip(inp: dict, result: dict) -> bytes:
    """One iCalendar file per team, zipped (teams subscribe to their own)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for d in inp["divisions"]:
            for t in d["teams"]:
                z.writestr(f"{_filename(t['id'])}.ics", team_ics(inp, result, t["id"]))
    return out.getvalue()


def _filename(team: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in team)
