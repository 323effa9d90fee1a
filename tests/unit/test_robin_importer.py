"""RobinX XML import: what it reads, and clear errors (with a path) for what it does not support."""

from __future__ import annotations

import pytest

from app.problems.base import InputError
from app.problems.round_robin.robinx import import_instance
from tests.support import BENCHMARKS

TEAMS = "".join(f'<team id="{t}" league="0" name="T{t}" teamGroups="0"/>' for t in range(4))
SLOTS = "".join(f'<slot id="{s}" name="S{s}"/>' for s in range(6))


def instance(constraints: str = "", game_mode: str = "P", slots: str = SLOTS) -> str:
    return (
        '<?xml version="1.0"?><Instance><MetaData><InstanceName>tiny</InstanceName></MetaData>'
        f"<Structure><Format><numberRoundRobin>2</numberRoundRobin><compactness>C</compactness>"
        f"<gameMode>{game_mode}</gameMode></Format></Structure>"
        f"<Resources><Teams>{TEAMS}</Teams><Slots>{slots}</Slots></Resources>"
        f"<Constraints><CapacityConstraints>{constraints}</CapacityConstraints></Constraints></Instance>"
    )


def error_of(text: str) -> dict[str, str]:
    with pytest.raises(InputError) as exc:
        import_instance(text)
    return exc.value.errors[0]


def test_reads_teams_phase_and_constraints_with_groups():
    ca = '<CA2 max="1" min="0" mode1="HA" mode2="GLOBAL" penalty="5" slots="0;2" teams1="1" teamGroups2="0" '
    ca += 'type="SOFT"/>'
    ga = '<GA1 max="0" meetings="0,1;2,3;" min="0" penalty="1" slots="1" type="HARD"/>'
    inp = import_instance("\ufeff" + instance(ca + ga))
    assert inp.name == "tiny" and inp.teams == ["T0", "T1", "T2", "T3"] and inp.phased
    ca2, ga1 = inp.constraints
    assert (ca2.constraint, ca2.type, ca2.penalty, ca2.teams1, ca2.teams2, ca2.slots) == (
        "CA2", "SOFT", 5, [1], [0, 1, 2, 3], [0, 2]
    )  # fmt: skip
    assert ga1.meetings == [[0, 1], [2, 3]] and ga1.type == "HARD"


def test_an_unsupported_constraint_class_is_named():
    err = error_of(instance('<CA5 max="1" teams="0" type="HARD"/>'))
    assert err["path"] == "Constraints.CapacityConstraints.CA5"
    assert "CA5 is not supported" in err["message"] and "CA1" in err["message"]


def test_an_unsupported_mode_is_named():
    err = error_of(instance('<CA2 max="1" mode1="H" mode2="EVERY" slots="0" teams1="0" teams2="1" type="HARD"/>'))
    assert err["path"] == "Constraints.CA2[0].mode2" and "'EVERY' is not supported" in err["message"]


def test_unknown_teams_and_bad_numbers_have_paths():
    assert (
        error_of(instance('<CA1 max="0" mode="H" slots="0" teams="9" type="HARD"/>'))["path"]
        == "Constraints.CA1[0].teams"
    )
    err = error_of(instance('<CA1 max="x" mode="H" slots="0" teams="1" type="HARD"/>'))
    assert err["path"] == "Constraints.CA1[0].max" and "'x'" in err["message"]


def test_schema_errors_carry_the_input_path():
    err = error_of(instance('<CA1 max="0" mode="Q" slots="0" teams="1" type="HARD"/>'))
    assert err["path"] == "input.constraints[0].CA1.mode"


def test_not_a_compact_double_round_robin():
    assert "compact double round robin has 6" in error_of(instance(slots=SLOTS + '<slot id="6"/>'))["message"]


def test_an_entity_expansion_bomb_is_refused_not_expanded():
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    bomb += "<Instance>&lol2;</Instance>"
    assert "unsafe XML" in error_of(bomb)["message"]


def test_a_solution_file_or_junk_says_so():
    assert "solution file" in error_of("<Solution><Games/></Solution>")["message"]
    assert "not well-formed" in error_of("<Instance>")["message"]


def test_a_traveling_tournament_reads_distances_and_its_hard_rules():
    path = BENCHMARKS / "sports_league" / "nl4.xml"
    if not path.exists():
        pytest.skip("needs ../shared/benchmarks")
    inp = import_instance(path.read_text(encoding="utf-8"))
    assert inp.n == 4 and inp.distances[0][1] == 745 and not inp.phased
    assert [c.constraint for c in inp.constraints] == ["CA3", "CA3", "SE1"]
    assert inp.constraints[0].intp == 4 and inp.constraints[0].max == 3 and inp.constraints[2].min == 1


def test_the_json_form_reports_each_problem_with_its_field_path():
    from app.problems.round_robin.schema import validate

    bad = {
        "teams": ["A", "B", "C", "D"],
        "constraints": [
            {"constraint": "CA1", "type": "HARD", "teams": [0, 7], "slots": [9], "mode": "H", "max": 0},
            {"constraint": "GA1", "type": "SOFT", "meetings": [[1, 1]], "slots": [0], "max": 0},
            {"constraint": "BR1", "type": "MAYBE", "teams": [0], "slots": [0], "intp": 0},
        ],
        "distances": [[0, 1], [1, 0]],
    }
    with pytest.raises(InputError) as exc:
        validate(bad)
    assert [e["path"] for e in exc.value.errors] == ["constraints[2].BR1.type"]
    del bad["constraints"][2]
    with pytest.raises(InputError) as exc:
        validate(bad)
    assert [e["path"] for e in exc.value.errors] == [
        "distances",
        "constraints[0].teams[1]",
        "constraints[0].slots[0]",
        "constraints[1].meetings[0]",
    ]
    with pytest.raises(InputError) as exc:
        validate({"teams": ["A", "B", "C"]})
    assert exc.value.errors[0]["message"] == "a compact round robin needs an even number of teams, got 3"
