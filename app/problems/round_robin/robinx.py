"""RobinX XML: instances in (ITC2021, traveling tournament), schedules in and out.

Parsed with defusedxml, so an entity-expansion bomb or an external entity is refused rather than
expanded. Anything this solver does not model (another constraint class, a non-compact or not double
round robin, an unknown mode) is an InputError naming it, never a silently different problem.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from app.problems.base import InputError
from app.problems.round_robin.schema import CLASSES, Input, validate

_ATTRS: dict[str, dict[str, str]] = {
    # RobinX attribute -> our field (teams/slots and their groups are resolved separately)
    "CA1": {"mode": "mode", "min": "min", "max": "max"},
    "CA2": {"mode1": "mode1", "min": "min", "max": "max"},
    "CA3": {"mode1": "mode1", "min": "min", "max": "max", "intp": "intp"},
    "CA4": {"mode1": "mode1", "mode2": "mode2", "min": "min", "max": "max"},
    "GA1": {"min": "min", "max": "max"},
    "BR1": {"mode2": "mode2", "intp": "intp"},
    "BR2": {"intp": "intp"},
    "FA2": {"intp": "intp"},
    "SE1": {"min": "min", "max": "max"},
}
_TEAM_FIELDS = {"CA1": ("teams",), "BR1": ("teams",), "BR2": ("teams",), "FA2": ("teams",), "SE1": ("teams",)}
_INTS = {"min", "max", "intp"}
# Modes we model exactly as RobinX defines them; other values are refused by name.
# In a compact timetable every team plays in every slot, so CA3 windows of GAMES are windows of SLOTS.
_FIXED_MODES = {"CA2": {"mode2": "GLOBAL"}, "CA3": {"mode2": ("SLOTS", "GAMES")}, "BR1": {"mode1": "LEQ"}}
_FIXED_MODES |= {"BR2": {"homeMode": "HA", "mode2": "LEQ"}, "FA2": {"mode": "H"}, "SE1": {"mode1": "SLOTS"}}


def _fail(path: str, message: str) -> InputError:
    return InputError([{"path": path, "message": message}])


def parse_xml(text: str) -> Element:
    """The document's root element; InputError for text that is not (safe) XML."""
    text = text.lstrip("\ufeff")
    try:
        return SafeET.fromstring(text.encode("utf-8"))
    except DefusedXmlException as exc:
        raise _fail("input", f"refused unsafe XML ({type(exc).__name__}: entities and DTDs are not allowed)") from None
    except SafeET.ParseError as exc:
        raise _fail("input", f"not well-formed XML: {exc}") from None


def import_instance(text: str) -> Input:
    """A RobinX instance file (text) -> the validated Input."""
    root = parse_xml(text)
    if root.tag == "Solution":
        raise _fail("input", "this is a RobinX solution file; submit the instance file")
    if root.tag != "Instance":
        raise _fail("input", f"expected a RobinX <Instance> document, got <{root.tag}>")
    payload = _payload(root)
    try:
        return validate(payload)
    except InputError as exc:
        raise InputError([{"path": "input." + e["path"], "message": e["message"]} for e in exc.errors]) from None


def _payload(root: Element) -> dict[str, Any]:
    _check_structure(root)
    team_ids, groups = _teams(root)
    slot_ids, slot_groups = _slots(root)
    if len(slot_ids) != 2 * (len(team_ids) - 1):
        raise _fail(
            "Resources.Slots",
            f"{len(slot_ids)} slots for {len(team_ids)} teams; "
            f"a compact double round robin has {2 * (len(team_ids) - 1)}",
        )
    index = {tid: k for k, tid in enumerate(team_ids)}
    slot_index = {sid: k for k, sid in enumerate(slot_ids)}
    names = [t.get("name") or f"Team {t.get('id')}" for t in root.iterfind("Resources/Teams/team")]
    payload: dict[str, Any] = {
        "name": (root.findtext("MetaData/InstanceName") or "RobinX instance").strip()[:200],
        "teams": names,
        "phased": (root.findtext("Structure/Format/gameMode") or "").strip() == "P",
        "constraints": [],
    }
    refs = _Refs(index, groups, slot_index, slot_groups)
    for k, elem in enumerate(_constraint_elements(root)):
        payload["constraints"].append(_constraint(elem, f"Constraints.{elem.tag}[{k}]", refs))
    distances = root.find("Data/Distances")
    if distances is not None and len(distances):
        payload["distances"] = _distances(distances, index)
    return payload


def _check_structure(root: Element) -> None:
    fmt = root.find("Structure/Format")
    if fmt is None:
        return
    rr = (fmt.findtext("numberRoundRobin") or "2").strip()
    if rr != "2":
        raise _fail("Structure.Format.numberRoundRobin", f"only double round robins are supported, got {rr}")
    compact = (fmt.findtext("compactness") or "C").strip()
    if compact != "C":
        raise _fail("Structure.Format.compactness", f"only compact timetables (C) are supported, got {compact!r}")
    objective = (root.findtext("ObjectiveFunction/Objective") or "SC").strip()
    if objective not in ("SC", "TR", ""):
        raise _fail("ObjectiveFunction.Objective", f"objective {objective!r} is not supported (SC or TR)")


def _teams(root: Element) -> tuple[list[str], dict[str, list[str]]]:
    teams = list(root.iterfind("Resources/Teams/team"))
    if len(teams) < 2:
        raise _fail("Resources.Teams", "an instance needs at least two <team> elements")
    ids = [t.get("id", "") for t in teams]
    groups: dict[str, list[str]] = {}
    for t in teams:
        for g in _split(t.get("teamGroups", "")):
            groups.setdefault(g, []).append(t.get("id", ""))
    return ids, groups


def _slots(root: Element) -> tuple[list[str], dict[str, list[str]]]:
    slots = list(root.iterfind("Resources/Slots/slot"))
    groups: dict[str, list[str]] = {}
    for s in slots:
        for g in _split(s.get("slotGroups", "")):
            groups.setdefault(g, []).append(s.get("id", ""))
    return [s.get("id", "") for s in slots], groups


def _constraint_elements(root: Element) -> list[Element]:
    out = []
    for group in root.findall("Constraints/*"):
        for elem in group:
            if elem.tag not in CLASSES:
                raise _fail(
                    f"Constraints.{group.tag}.{elem.tag}",
                    f"constraint class {elem.tag} is not supported (supported: {', '.join(CLASSES)})",
                )
            out.append(elem)
    return out


class _Refs:
    def __init__(self, teams: dict, team_groups: dict, slots: dict, slot_groups: dict):
        self.teams, self.team_groups, self.slots, self.slot_groups = teams, team_groups, slots, slot_groups

    def resolve(self, elem: Element, attr: str, group_attr: str, path: str, slots: bool = False) -> list[int]:
        ids, groups = (self.slots, self.slot_groups) if slots else (self.teams, self.team_groups)
        out: list[int] = []
        for g in _split(elem.get(group_attr, "")):
            if g not in groups:
                raise _fail(f"{path}.{group_attr}", f"unknown group {g!r}")
            out += [ids[i] for i in groups[g]]
        for i in _split(elem.get(attr, "")):
            if i not in ids:
                raise _fail(f"{path}.{attr}", f"unknown {'slot' if slots else 'team'} {i!r}")
            out.append(ids[i])
        return list(dict.fromkeys(out))


def _constraint(elem: Element, path: str, refs: _Refs) -> dict[str, Any]:
    cls = elem.tag
    for attr, expected in _FIXED_MODES.get(cls, {}).items():
        allowed = expected if isinstance(expected, tuple) else (expected,)
        got = elem.get(attr, allowed[0])
        if got not in allowed:
            raise _fail(f"{path}.{attr}", f"{cls} with {attr}={got!r} is not supported (only {' or '.join(allowed)})")
    out: dict[str, Any] = {
        "constraint": cls,
        "type": elem.get("type", "HARD"),
        "penalty": _int(elem, "penalty", path, 1),
    }
    for attr, field in _ATTRS[cls].items():
        if elem.get(attr) is not None:
            out[field] = _int(elem, attr, path) if attr in _INTS else elem.get(attr)
    if cls in _TEAM_FIELDS:
        out["teams"] = refs.resolve(elem, "teams", "teamGroups", path)
    elif cls != "GA1":
        out["teams1"] = refs.resolve(elem, "teams1", "teamGroups1", path)
        out["teams2"] = refs.resolve(elem, "teams2", "teamGroups2", path)
    if cls not in ("CA3", "SE1"):
        out["slots"] = refs.resolve(elem, "slots", "slotGroups", path, slots=True)
    if cls == "GA1":
        out["meetings"] = _meetings(elem.get("meetings", ""), refs.teams, path)
    return out


def _meetings(text: str, teams: dict[str, int], path: str) -> list[list[int]]:
    out = []
    for pair in _split(text):
        parts = pair.split(",")
        if len(parts) != 2 or any(p.strip() not in teams for p in parts):
            raise _fail(f"{path}.meetings", f"not a meeting of two known teams: {pair!r}")
        out.append([teams[parts[0].strip()], teams[parts[1].strip()]])
    return out


def _distances(elem: Element, teams: dict[str, int]) -> list[list[int]]:
    n = len(teams)
    matrix = [[0] * n for _ in range(n)]
    for d in elem.iterfind("distance"):
        a, b = d.get("team1", ""), d.get("team2", "")
        if a not in teams or b not in teams:
            raise _fail("Data.Distances", f"distance between unknown teams {a!r} and {b!r}")
        matrix[teams[a]][teams[b]] = _int(d, "dist", "Data.Distances")
    return matrix


def _int(elem: Element, attr: str, path: str, default: int | None = None) -> int:
    raw = elem.get(attr)
    if raw is None and default is not None:
        return default
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _fail(f"{path}.{attr}", f"expected a whole number, got {raw!r}") from None


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def import_solution(text: str) -> tuple[dict, int | None]:
    """A RobinX solution file -> ({"games": [[home, away, slot], ...]}, its stated objective)."""
    root = parse_xml(text)
    if root.tag != "Solution":
        raise _fail("input", f"expected a RobinX <Solution> document, got <{root.tag}>")
    games = []
    for k, m in enumerate(root.iterfind("Games/ScheduledMatch")):
        games.append([_int(m, "home", f"Games[{k}]"), _int(m, "away", f"Games[{k}]"), _int(m, "slot", f"Games[{k}]")])
    value = root.find("MetaData/ObjectiveValue")
    objective = int(value.get("objective")) if value is not None and value.get("objective") else None
    return {"games": games}, objective


def export_solution(inp: Input, solution: dict, objective: int | None = None, infeasibility: int = 0) -> str:
    """The schedule as a RobinX solution document (the format the competition validator reads)."""
    from xml.sax.saxutils import escape, quoteattr

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<Solution>", "<MetaData>"]
    lines.append(f"<InstanceName>{escape(inp.name)}</InstanceName>")
    lines.append("<Contributor>SolveQueue</Contributor>")
    if objective is not None:
        lines.append(
            f"<ObjectiveValue infeasibility={quoteattr(str(infeasibility))} objective={quoteattr(str(objective))}/>"
        )
    lines += ["</MetaData>", "<Games>"]
    for home, away, slot in sorted(solution["games"], key=lambda g: (g[2], g[0], g[1])):
        lines.append(f'<ScheduledMatch home="{home}" away="{away}" slot="{slot}"/>')
    lines += ["</Games>", "</Solution>", ""]
    return "\n".join(lines)
