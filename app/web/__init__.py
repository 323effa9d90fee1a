"""The HTML pages: server-rendered, made live with htmx (vendored under static/), usable without JS.

`init_app` registers the pages blueprint, htmx-flask (`request.htmx`), the template helpers, the
friendly error pages and rq-dashboard at /rq (see `dashboard`).
"""

from __future__ import annotations

from flask import Flask
from htmx_flask import Htmx

from app import problems
from app.web import dashboard, errors, formatting, forms, present, results
from app.web.views import bp

BREAKDOWN_ITEMS_SHOWN = 100  # per rule on the page; the result JSON has every penalty


def init_app(app: Flask) -> None:
    Htmx(app)
    app.register_blueprint(bp)
    formatting.init_app(app)
    app.jinja_env.globals.update(
        elapsed=present.elapsed, breakdown_when=results.breakdown_when, problem_types=problems.all_types,
        format_choices=forms.format_choices, demo_label=forms.demo_label, dashboard_enabled=dashboard.enabled,
        breakdown_items_shown=BREAKDOWN_ITEMS_SHOWN,
    )
    errors.init_app(app)
    dashboard.init_app(app)
