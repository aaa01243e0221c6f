"""Entry point: ``flask --app app run`` or ``gunicorn 'app:create_app()'``."""

from smarketing.web.factory import create_app

__all__ = ["create_app"]
