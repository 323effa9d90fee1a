"""SolveQueue: a job server for constraint-optimisation solves. `create_app()` builds the web app."""

from __future__ import annotations

import logging

from flask import Flask

from app import config


def create_app(test_config: dict | None = None) -> Flask:
    """The Flask app; `test_config` overrides settings (tests give each app its own DB and Redis).
    Refuses to start (config.UnsafeConfiguration) with production settings that would be unsafe."""
    settings = config.load(test_config)
    config.check(settings)
    app = Flask(
        __name__, template_folder="../templates", static_folder="../static", instance_path=str(config.INSTANCE_DIR)
    )
    app.config.from_mapping(settings.as_flask())
    app.config.update({k: v for k, v in (test_config or {}).items() if k not in app.config})
    app.extensions["settings"] = settings
    logging.basicConfig(level=logging.INFO)

    from app import auth, cli, hardening, limits, monitoring, web
    from app.api import bp as api_bp
    from app.api import errors as api_errors

    hardening.init_app(app, settings)
    auth.init_app(app)
    limits.init_app(app)
    app.register_blueprint(api_bp)
    api_errors.register_app(app)
    monitoring.init_app(app)
    cli.init_app(app)
    web.init_app(app)
    return app
