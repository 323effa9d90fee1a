"""The submit form: what the user typed → a submission dict for `runs.submit`, and errors → form fields.

Validation itself is the service's (`runs.parse_submission`); this module only reads the form, turns
an uploaded file into input (JSON or an importer's text format) and says which field an error is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from app import jsondoc, problems
from app.models import Run
from app.problems import InputError

FIELDS = ("problem_type", "source", "demo", "format", "name", "time_limit", "priority")
KEEP_TEXT_LIMIT = 512 * 1024  # an uploaded file is shown back for fixing only up to this size


@dataclass
class SubmitForm:
    """The form as the user left it, plus the errors to show next to each field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def blank(cls, **values: str) -> SubmitForm:
        defaults = {"problem_type": default_problem_type(), "source": "demo", "format": "auto", "priority": "default"}
        return cls({**defaults, **values})

    def fail(self, exc: InputError) -> SubmitForm:
        for err in exc.errors:
            name = field_of(err["path"])
            if name == "problem_type" and self.values.get("source") == "demo":
                name = "demo"  # the type select is hidden while a demo is chosen
            # Errors inside the file say where: "input.staff[2].id: ..."
            where = name == "input" and err["path"] != "input"
            self.errors.setdefault(name, []).append(f"{err['path']}: {err['message']}" if where else err["message"])
        return self


def default_problem_type() -> str:
    names = [p.name for p in problems.all_types()]
    return "shift_scheduling" if "shift_scheduling" in names else (names[0] if names else "")


def field_of(path: str) -> str:
    """Which form field an error path belongs to; 'form' for errors about the whole submission."""
    head = path.split(".", 1)[0].split("[", 1)[0]
    if head in ("problem_type", "demo", "format", "name", "time_limit", "priority", "input"):
        return head
    return "form"


def read(form: ImmutableMultiDict, files: ImmutableMultiDict) -> tuple[SubmitForm, dict[str, Any]]:
    """The form as entered (with errors if a file cannot be read) and the submission it describes."""
    entered = SubmitForm.blank(**{k: form.get(k, "").strip() for k in FIELDS if form.get(k, "").strip()})
    entered.values["input_text"] = form.get("input_text", "")
    v = entered.values
    data: dict[str, Any] = {"problem_type": v["problem_type"], "name": v.get("name", ""), "priority": v["priority"]}
    errors: list[dict[str, str]] = []
    if v.get("time_limit"):
        try:
            data["time_limit"] = float(v["time_limit"])
        except ValueError:
            errors.append({"path": "time_limit", "message": "enter a number of seconds, e.g. 30"})
    if v["source"] == "demo":
        # A demo names its problem type ("shift_scheduling/medium"): the type select is for files.
        problem_type, _, data["demo"] = v.get("demo", "").rpartition("/")
        data["problem_type"] = problem_type or data["problem_type"]
    else:
        try:
            data.update(_file_input(v, files.get("file")))
        except InputError as exc:
            errors.extend(exc.errors)
    if errors:
        entered.fail(InputError(errors))
    return entered, data


def too_large(limit: int) -> SubmitForm:
    """The form when the upload was refused for its size (nothing of it could be read)."""
    form = SubmitForm.blank(source="file")
    message = f"the file is larger than {limit / 1024 / 1024:.3g} MB, the most this server accepts"
    return form.fail(InputError([{"path": "input", "message": message}]))


def _file_input(values: dict[str, str], upload: FileStorage | None) -> dict[str, Any]:
    """The uploaded file (or pasted text) as submission input, in its format."""
    text, filename = values.get("input_text", ""), ""
    if upload is not None and upload.filename:
        filename = upload.filename
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError([{"path": "input", "message": f"{filename} is not a UTF-8 text file"}]) from None
        if len(text) <= KEEP_TEXT_LIMIT:
            values["input_text"] = text  # shown back in the text box, so an error can be fixed in place
    if not text.strip():
        raise InputError([{"path": "input", "message": "choose a file (or paste its contents)"}])
    fmt = detect_format(values["problem_type"], values.get("format", "auto"), filename, text)
    if fmt != "json":
        return {"input": text, "format": fmt}
    try:
        return {"input": jsondoc.parse(text), "format": "json"}
    except jsondoc.DocumentError as exc:
        raise InputError([{"path": "input", "message": f"not valid JSON: {exc}"}]) from None


def detect_format(problem_type: str, chosen: str, filename: str, text: str) -> str:
    """The chosen format, or for 'auto': JSON if it looks like JSON, else the type's first importer."""
    if chosen and chosen != "auto":
        return chosen
    if filename.lower().endswith(".json") or text.lstrip().startswith(("{", "[")):
        return "json"
    try:
        importers = list(problems.get(problem_type).importers)
    except KeyError:
        return "json"
    return importers[0] if importers else "json"


@lru_cache(maxsize=64)
def demo_label(problem_type: str, demo: str) -> str:
    """'medium — 20 staff, 28 days, 3 shifts': the demo's size, from the problem type's summary."""
    problem = problems.get(problem_type)
    facts = problem.summary(problem.demos[demo]())
    label = demo.replace("_", " ").capitalize()
    return f"{label} — {', '.join(f'{v} {k}' for k, v in facts.items())}" if facts else label


def format_choices() -> list[tuple[str, str]]:
    """(value, label) for every format some problem type reads."""
    names = {name for p in problems.all_types() for name in p.importers}
    return [("auto", "Detect from the file"), ("json", "JSON"),
            *((n, n.replace("_", " ").capitalize()) for n in sorted(names))]


def again(run: Run, time_limit: str) -> dict[str, Any]:
    """A new submission of `run`'s input; by default with twice its time limit (the seed is kept)."""
    try:
        limit = float(time_limit) if time_limit.strip() else run.time_limit * 2
    except ValueError:
        raise InputError([{"path": "time_limit", "message": "enter a number of seconds, e.g. 60"}]) from None
    name = run.name if run.name.endswith("(again)") else f"{run.name} (again)"
    return {"problem_type": run.problem_type, "name": name[:200], "input": run.input, "format": "json",
            "time_limit": limit, "priority": run.priority, "seed": int((run.stats or {}).get("seed", 0))}
