"""The client tests talk to a real server: the browser tests' gunicorn (`live_server`) and a real worker.
The client package is imported from client/ as `pip install ./client` would install it."""

from __future__ import annotations

import sys

import pytest

from app.auth import tokens
from tests.browser.conftest import live_server  # noqa: F401  (the one place that starts gunicorn)
from tests.support import ROOT

CLIENT = ROOT / "client"
if str(CLIENT) not in sys.path:
    sys.path.insert(0, str(CLIENT))


@pytest.fixture
def token(database_url, user) -> str:
    """An API token of alice's, as a user creates one on her account page."""
    return tokens.create(database_url, user.id, "client tests")[1]
