"""The client tests talk to a real server: the browser tests' gunicorn (`live_server`) and a real worker.
The client package is imported from client/ as `pip install ./client` would install it."""

from __future__ import annotations

import sys

from tests.browser.conftest import live_server  # noqa: F401  (the one place that starts gunicorn)
from tests.support import ROOT

CLIENT = ROOT / "client"
if str(CLIENT) not in sys.path:
    sys.path.insert(0, str(CLIENT))
