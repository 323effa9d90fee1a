"""Files a run offers for download: its input, its result (JSON) and the problem type's own exports."""

from __future__ import annotations

import json

from app import runs
from app.api import serialize
from app.config import Settings
from app.models import Run
from app.web import results

JSON = "application/json"


def available(run: Run) -> list[tuple[str, str]]:
    """(filename, label) of each download this run has now."""
    files = [("input.json", "Input (JSON)")]
    if run.is_terminal:
        files.append(("result.json", "Result (JSON)"))
    return files + [(e.filename, e.label) for e in results.exports(run)]


def render(run: Run, filename: str, settings: Settings) -> tuple[str, str] | None:
    """(body, mimetype) of one download, or None if the run has no such file."""
    if filename == "input.json":
        return json.dumps(run.input, indent=2), JSON
    if filename == "result.json" and run.is_terminal:
        doc = serialize.run(run, progress=runs.progress(run.id, settings), detail=True)
        doc.pop("input", None)  # it has its own download
        return json.dumps(doc, indent=2), JSON
    export = results.export(run, filename)
    if export is None:
        return None
    return export.render(run.input, run.result), export.mimetype
