"""Entry point: ``flask --app app run`` or ``gunicorn 'app:create_app()'``."""

import gc
from typing import Any

from flask import Flask

from smarketing.web.core import factory

__all__ = ["create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app as served, its start-up objects moved out of the collector's sight.

    The ~140k objects alive after start-up (modules, SQLAlchemy metadata,
    templates, translations) are never garbage, yet every full (generation 2)
    collection walked them: a pause about every tenth dashboard request, which
    set the page's p95 (docs/PERFORMANCE.md). ``gc.freeze()`` leaves them out of
    later collections, at a cost of its own too small to matter. Here rather than in the
    factory: tests build hundreds of apps per process and must not keep them.
    """
    app = factory.create_app(test_config)
    gc.freeze()
    return app
