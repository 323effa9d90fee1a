"""Getting a shift-scheduling problem in: the benchmark text format, and the JSON schema's checks."""

from __future__ import annotations

import copy

import pytest

from app.problems import InputError, get
from app.problems.shift_scheduling import import_text, validate

# Instance -> (days, shifts, staff, shift-on requests, shift-off requests, cover lines)
COUNTS = {
    "Instance1": (14, 1, 8, 21, 5, 14),
    "Instance2": (14, 2, 14, 50, 12, 28),
    "Instance3": (14, 3, 20, 39, 25, 42),
    "Instance4": (28, 2, 10, 52, 19, 56),
    "Instance5": (28, 2, 16, 79, 27, 56),
    "Instance6": (28, 3, 18, 87, 48, 84),
    "Instance7": (28, 3, 20, 104, 64, 84),
    "Instance8": (28, 4, 30, 139, 86, 112),
    "Instance9": (28, 4, 36, 144, 88, 112),
    "Instance10": (28, 5, 40, 210, 74, 140),
    "Instance11": (28, 6, 50, 197, 139, 168),
    "Instance12": (28, 10, 60, 294, 128, 280),
}

SMALL_FILE = """\
# comment
SECTION_HORIZON
7

SECTION_SHIFTS
E,480,
L,480,E

SECTION_STAFF
# ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, MinConsecutiveShifts, ...
A,E=7|L=3,2880,960,5,2,2,1
B,E=0|L=7,2880,960,5,1,1,1

SECTION_DAYS_OFF
A,0,6

SECTION_SHIFT_ON_REQUESTS
A,2,E,2

SECTION_SHIFT_OFF_REQUESTS
B,3,L,3

SECTION_COVER
0,E,1,100,1
0,L,1,100,1
"""


def line(content: str, text: str = SMALL_FILE) -> int:
    """The 1-based number of the line holding `content`."""
    return next(n for n, row in enumerate(text.splitlines(), start=1) if content in row)


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def error_paths(text: str) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        import_text(text)
    return {e["path"]: e["message"] for e in caught.value.errors}


# --- benchmark text format ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(COUNTS))
def test_every_benchmark_instance_imports(shift_benchmarks, name):
    inp = import_text((shift_benchmarks / f"{name}.txt").read_text())
    found = (
        inp.horizon_days,
        len(inp.shifts),
        len(inp.staff),
        len(inp.shift_on_requests),
        len(inp.shift_off_requests),
        len(inp.cover),
    )
    assert found == COUNTS[name]
    assert all(person.days_off for person in inp.staff)  # every instance gives each person days off


def test_instance_fields_are_read_into_the_right_places(shift_benchmarks):
    inp = import_text((shift_benchmarks / "Instance12.txt").read_text())
    person = inp.staff[0]
    assert (person.id, person.days_off) == ("A", [7, 24])
    assert person.max_shifts["d3"] == 0 and person.max_shifts["a1"] == 28
    assert (person.max_total_minutes, person.min_total_minutes) == (8640, 7560)
    assert (person.max_consecutive_shifts, person.min_consecutive_shifts) == (5, 2)
    assert (person.min_consecutive_days_off, person.max_weekends) == (2, 2)
    n1 = next(s for s in inp.shifts if s.id == "n1")
    assert n1.cannot_follow == ["a1", "a2", "a3", "d1", "d2", "d3", "p1", "p2", "p3"]


def test_a_small_file_reads_as_expected():
    inp = import_text(SMALL_FILE)
    assert inp.model_dump() == {
        "horizon_days": 7,
        "shifts": [
            {"id": "E", "length_minutes": 480, "cannot_follow": []},
            {"id": "L", "length_minutes": 480, "cannot_follow": ["E"]},
        ],
        "staff": [
            {
                "id": "A",
                "max_shifts": {"E": 7, "L": 3},
                "max_total_minutes": 2880,
                "min_total_minutes": 960,
                "max_consecutive_shifts": 5,
                "min_consecutive_shifts": 2,
                "min_consecutive_days_off": 2,
                "max_weekends": 1,
                "days_off": [0, 6],
            },
            {
                "id": "B",
                "max_shifts": {"E": 0, "L": 7},
                "max_total_minutes": 2880,
                "min_total_minutes": 960,
                "max_consecutive_shifts": 5,
                "min_consecutive_shifts": 1,
                "min_consecutive_days_off": 1,
                "max_weekends": 1,
                "days_off": [],
            },
        ],
        "shift_on_requests": [{"staff": "A", "day": 2, "shift": "E", "weight": 2}],
        "shift_off_requests": [{"staff": "B", "day": 3, "shift": "L", "weight": 3}],
        "cover": [
            {"day": 0, "shift": "E", "requirement": 1, "weight_under": 100, "weight_over": 1},
            {"day": 0, "shift": "L", "requirement": 1, "weight_under": 100, "weight_over": 1},
        ],
    }


def test_windows_line_endings_and_byte_order_mark_are_fine():
    assert import_text("\ufeff" + SMALL_FILE.replace("\n", "\r\n")) == import_text(SMALL_FILE)


def test_importer_is_registered_under_benchmark_text():
    assert get("shift_scheduling").load(SMALL_FILE, "benchmark_text") == import_text(SMALL_FILE)


def test_missing_field_names_the_line_and_section():
    text = replace_line(SMALL_FILE, "B,E=0|L=7,2880,960,5,1,1,1", "B,E=0|L=7,2880,960,5,1,1")
    path = f"line {line('B,E=0')} (SECTION_STAFF)"
    errors = error_paths(text)
    assert list(errors) == [path]
    assert "expected 8 comma-separated fields" in errors[path]


def test_non_number_names_the_field():
    errors = error_paths(replace_line(SMALL_FILE, "A,2,E,2", "A,two,E,2"))
    assert errors == {f"line {line('A,2,E,2')} (SECTION_SHIFT_ON_REQUESTS)": "Day must be a whole number, got 'two'"}


def test_bad_max_shifts_entry():
    errors = error_paths(replace_line(SMALL_FILE, "E=7|L=3", "E7|L=3"))
    assert "ShiftID=max" in errors[f"line {line('A,E=7')} (SECTION_STAFF)"]


def test_unknown_section_and_stray_text():
    text = SMALL_FILE.replace("SECTION_COVER", "SECTION_COVERS") + "\nstray words\n"
    errors = error_paths(text)
    assert errors.keys() == {
        f"line {line('SECTION_COVERS', text)} (SECTION_COVERS)",
        f"line {line('stray', text)} (outside any section)",
    }  # one error per bad section
    assert "unknown section" in errors[f"line {line('SECTION_COVERS', text)} (SECTION_COVERS)"]
    assert "is a SECTION_ line missing?" in errors[f"line {line('stray', text)} (outside any section)"]


def test_a_section_twice():
    text = SMALL_FILE + "\nSECTION_HORIZON\n8\n"
    second = len(text.splitlines()) - 1
    assert error_paths(text) == {f"line {second} (SECTION_HORIZON)": "section appears twice"}


def test_missing_horizon():
    errors = error_paths(SMALL_FILE.replace("SECTION_HORIZON\n7\n", ""))
    assert "SECTION_HORIZON" in errors


def test_schema_errors_point_at_the_file_line():
    errors = error_paths(replace_line(SMALL_FILE, "0,L,1,100,1", "0,X,1,100,1"))
    assert errors == {f"line {line('0,L,1')} (SECTION_COVER)": "cover[1].shift: unknown shift 'X'"}
    errors = error_paths(replace_line(SMALL_FILE, "A,0,6", "A,0,9"))
    assert errors == {
        f"line {line('A,0,6')} (SECTION_DAYS_OFF)": "staff[0].days_off[1]: day 9 is outside the horizon (days 0..6)"
    }
    errors = error_paths(replace_line(SMALL_FILE, "E=7|L=3", "E=7|Q=3"))
    assert errors == {f"line {line('A,E=7')} (SECTION_STAFF)": "staff[0].max_shifts.Q: unknown shift 'Q'"}


def test_days_off_for_an_unknown_employee():
    errors = error_paths(replace_line(SMALL_FILE, "A,0,6", "Z,0,6"))
    assert errors == {f"line {line('A,0,6')} (SECTION_DAYS_OFF)": "unknown employee 'Z'"}


def test_not_text_at_all():
    with pytest.raises(InputError):
        import_text(b"SECTION_HORIZON")  # type: ignore[arg-type]


# --- JSON schema ----------------------------------------------------------------------------------

GOOD = {
    "horizon_days": 14,
    "shifts": [{"id": "D", "length_minutes": 480, "cannot_follow": ["L"]}, {"id": "L", "length_minutes": 480}],
    "staff": [
        {
            "id": "Anna",
            "max_shifts": {"D": 14},
            "max_total_minutes": 4320,
            "min_total_minutes": 3360,
            "max_consecutive_shifts": 5,
            "min_consecutive_shifts": 2,
            "min_consecutive_days_off": 2,
            "max_weekends": 1,
            "days_off": [0],
        },
        {"id": "Ben"},
    ],
    "shift_on_requests": [{"staff": "Anna", "day": 2, "shift": "D", "weight": 2}],
    "shift_off_requests": [{"staff": "Ben", "day": 3, "shift": "L", "weight": 1}],
    "cover": [{"day": 0, "shift": "D", "requirement": 1, "weight_under": 100, "weight_over": 1}],
}


def bad(**changes) -> dict:
    """GOOD with `changes` applied; keys are dotted paths like 'staff.0.id' (value None deletes)."""
    doc = copy.deepcopy(GOOD)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = doc
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        key = int(last) if last.isdigit() else last
        if value is None:
            del target[key]
        else:
            target[key] = value
    return doc


def schema_errors(doc) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        validate(doc)
    return {e["path"]: e["message"] for e in caught.value.errors}


def test_good_input_validates():
    inp = validate(GOOD)
    assert inp.staff[1].min_consecutive_shifts == 1  # defaults fill what is left out
    assert validate(inp.model_dump()) == inp


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        (bad(horizon_days=0), "horizon_days"),
        (bad(horizon_days=400), "horizon_days"),
        (bad(horizon_days="14"), "horizon_days"),  # no silent string-to-number conversion
        (bad(horizon_days=None), "horizon_days"),  # missing
        (bad(colour="red"), "colour"),  # typo or unknown field
        (bad(**{"staff.0.max_weekend": 1}), "staff[0].max_weekend"),
        (bad(**{"staff.0.id": " Anna"}), "staff[0].id"),
        (bad(**{"staff.0.max_shifts": {"D": -1}}), "staff[0].max_shifts.D"),
        (bad(**{"shifts.0.length_minutes": 0}), "shifts[0].length_minutes"),
        (bad(**{"cover.0.weight_under": -5}), "cover[0].weight_under"),
        (bad(**{"shift_on_requests.0.weight": 1.5}), "shift_on_requests[0].weight"),
        (bad(staff=[]), "staff"),
        (bad(staff="Anna"), "staff"),
    ],
)
def test_field_errors_have_exact_paths(doc, path):
    assert path in schema_errors(doc)


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        (bad(**{"shift_on_requests.0.shift": "N"}), "shift_on_requests[0].shift", "unknown shift 'N'"),
        (bad(**{"shift_off_requests.0.staff": "Zed"}), "shift_off_requests[0].staff", "unknown staff 'Zed'"),
        (bad(**{"shift_on_requests.0.day": 14}), "shift_on_requests[0].day", "outside the horizon"),
        (bad(**{"cover.0.day": 20}), "cover[0].day", "outside the horizon"),
        (bad(**{"staff.0.days_off": [0, 14]}), "staff[0].days_off[1]", "outside the horizon"),
        (bad(**{"staff.1.id": "Anna"}), "staff[1].id", "duplicate id 'Anna'"),
        (bad(**{"shifts.1.id": "D"}), "shifts[1].id", "duplicate id 'D'"),
        (bad(**{"shifts.0.cannot_follow": ["X"]}), "shifts[0].cannot_follow[0]", "unknown shift 'X'"),
        (bad(**{"staff.0.max_shifts": {"N": 3}}), "staff[0].max_shifts.N", "unknown shift 'N'"),
        (bad(**{"staff.0.min_total_minutes": 5000}), "staff[0].min_total_minutes", "more than max_total_minutes"),
        (bad(**{"staff.0.min_consecutive_shifts": 6}), "staff[0].min_consecutive_shifts", "more than max"),
        (bad(cover=GOOD["cover"] * 2), "cover[1]", "duplicate cover for day 0"),
    ],
)
def test_cross_reference_errors_have_exact_paths(doc, path, words):
    errors = schema_errors(doc)
    assert path in errors and words in errors[path], errors


def test_all_errors_are_reported_at_once():
    doc = bad(**{"shift_on_requests.0.shift": "N", "cover.0.shift": "Q"})
    assert set(schema_errors(doc)) == {"shift_on_requests[0].shift", "cover[0].shift"}


def test_a_huge_problem_is_refused():
    doc = bad(
        horizon_days=366,
        shifts=[{"id": f"S{i}", "length_minutes": 60} for i in range(100)],
        staff=[{"id": f"P{i}"} for i in range(20)],
        shift_on_requests=[],
        shift_off_requests=[],
        cover=[],
    )
    assert "too large" in schema_errors(doc)["(root)"]


@pytest.mark.parametrize("payload", [None, 42, "text", [], {"horizon_days": {"a": 1}}, {"shifts": [None]}])
def test_garbage_raises_input_error_only(payload):
    with pytest.raises(InputError):
        validate(payload)
