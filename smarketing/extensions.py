"""Per-app state: the wired services live in ``app.extensions``."""

from flask import Flask, current_app

from smarketing.bootstrap import Services

KEY = "smarketing"


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions[KEY]
