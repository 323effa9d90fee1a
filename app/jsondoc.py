"""JSON documents from clients: parsed without a RecursionError, and checked for what would break
storage — nesting deeper than any problem needs, and NUL characters (PostgreSQL refuses them in text)."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # the deepest problem input is a handful of levels; 32 leaves room and stops abuse


class DocumentError(ValueError):
    """Not a usable JSON document; the message says why (and where, for JSON syntax)."""


def parse(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise DocumentError(f"nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentError(str(exc)) from None


def problems(doc: Any, limit: int = 20) -> list[dict[str, str]]:
    """[{"path", "message"}] for every place nested too deep or holding a NUL character (at most `limit`).
    Iterative, so a deep document cannot exhaust the stack here."""
    found: list[dict[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack and len(found) < limit:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            found.append({"path": path or "(root)", "message": f"nested more than {MAX_DEPTH} levels deep"})
        elif isinstance(value, str):
            if "\x00" in value:
                found.append({"path": path or "(root)", "message": "contains a NUL character"})
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and "\x00" in key:
                    found.append({"path": path or "(root)", "message": "a key contains a NUL character"})
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    return sorted(found, key=lambda e: e["path"])
