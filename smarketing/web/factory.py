"""The application factory (as in the Flask tutorial)."""

from typing import Any

from flask import Flask

from smarketing import cli
from smarketing.bootstrap import bootstrap
from smarketing.extensions import KEY
from smarketing.settings import load_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "smarketing",
        instance_relative_config=True,
        root_path=_project_root(),
        template_folder="templates",
        static_folder="static",
    )
    app.config.from_mapping(SECRET_KEY="dev-only-change-me")
    app.config.from_prefixed_env("SMARKETING")
    if test_config:
        app.config.update(test_config)
    settings = load_settings(
        app.instance_path,
        database_url=app.config.get("DATABASE_URL", ""),
        timezone=app.config.get("TIMEZONE", ""),
    )
    app.extensions[KEY] = bootstrap(settings)
    cli.init_app(app)
    from smarketing.web import home

    app.register_blueprint(home.bp)
    return app


def _project_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])
