"""Errors the server answered with, as exceptions that keep its field paths."""

from __future__ import annotations


class SolveQueueError(Exception):
    """The server refused a request: `status` (HTTP), `code`, `message` and `errors`.

    `errors` is the server's list of {"path", "message"}; `paths` are just the paths, e.g.
    ["input.model", "input.parameters.num_workers"].
    """

    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None):
        self.status, self.code, self.message, self.errors = status, code, message, list(errors or [])
        details = "".join(f"\n  {e.get('path')}: {e.get('message')}" for e in self.errors)
        super().__init__(f"{status} {code}: {message}{details}")

    @property
    def paths(self) -> list[str]:
        return [e.get("path", "") for e in self.errors]


class InvalidInput(SolveQueueError):
    """422: the submission (or the model in it) is not valid; nothing was stored."""


class NotFound(SolveQueueError):
    """404: no such run."""


class RunFinished(SolveQueueError):
    """409: the run had already finished (e.g. when canceling it)."""


class Timeout(TimeoutError):
    """`Run.wait(timeout=...)` ran out before the run ended."""


BY_STATUS = {422: InvalidInput, 404: NotFound, 409: RunFinished}
