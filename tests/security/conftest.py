"""The page fixtures (runs stored in any state) for the security tests too."""

from tests.web.conftest import make_run, shift_run  # noqa: F401
