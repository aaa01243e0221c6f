"""What the web says when the store or the read models are at fault, decided once:

- a read model stuck at an event it could not take (``projections.engine.quarantine``) is
  named in a banner for the people who read figures (managers, auditors, admins);
- a locked, read-only or unreachable store answers 503 with ``Retry-After`` and a
  message in the reader's language, never a traceback: nothing was stored, or what
  was stored stays stored (the idempotency key makes the retry safe).
"""

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import psycopg
import sqlalchemy.exc as sa
from flask import Flask, Response, render_template
from flask_babel import format_datetime
from flask_babel import gettext as _

from projections.engine.quarantine import UNAVAILABLE, Stuck
from smarketing.extensions import services
from smarketing.web.core.access import can
from smarketing.web.core.hx import HX_RESWAP, HX_RETARGET, is_htmx

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class StuckFigures:
    """Read models stuck at one position (an undecodable event sticks them all there)."""

    names: list[str]
    position: int
    since: datetime
    total: int  # read models in all

    @property
    def message(self) -> str:
        # Counted, not named: "score_state, scorecard_follow_up" means nothing to a manager
        # (the names are in the banner's title and in `flask projections status`).
        return _(
            "Some figures are not up to date: %(count)s of %(total)s views are stuck at log position "
            "%(position)s since %(since)s and show what came before it; an administrator can run "
            "“flask projections status”.",
            count=len(self.names),
            total=self.total,
            position=self.position,
            since=format_datetime(self.since, "short"),
        )


def group_stuck(stuck: dict[str, Stuck], total: int) -> list[StuckFigures]:
    by_position: dict[int, list[Stuck]] = {}
    for item in stuck.values():
        by_position.setdefault(item.position, []).append(item)
    return [
        StuckFigures(sorted(s.projection for s in items), position, min(s.since for s in items), total)
        for position, items in sorted(by_position.items())
    ]


def stuck_figures() -> list[StuckFigures]:
    """For the banner: only readers of figures see it, and a store fault hides it."""
    if not (can("report.read") or can("users.admin")):
        return []
    try:
        projector = services().projector
        return group_stuck(projector.stuck(), len(projector.projections))
    except UNAVAILABLE:
        return []  # the page itself says so, if it needs the store


def schema_is_behind(error: BaseException) -> bool:
    """The database lacks a table or column this version reads: a store set up by an
    older version, or never set up, until `flask db init` runs."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return True
    return isinstance(cause, sqlite3.OperationalError) and str(cause).startswith(
        ("no such table", "no such column")
    )


def unavailable_answer(error: Exception) -> Response:
    if schema_is_behind(error):
        log.error("the database's schema is behind this version: %r", error)
        message = _(
            "The database is not set up for this version of Smarketing yet, so this could not be "
            "done. Nothing is lost: an administrator must run “flask db init”."
        )
    else:
        log.warning("store unavailable: %r", error)
        message = _(
            "The database is busy or cannot be written to right now, so this could not be done. "
            "Nothing is lost: wait a few seconds and try again."
        )
    htmx = is_htmx()  # any htmx request: retargeted below, wherever it aimed
    template = "partials/error.html" if htmx else "error.html"
    response = Response(render_template(template, message=message, status=503), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if htmx:
        # Not into the form's place: what the person typed stays, to send again.
        response.headers[HX_RETARGET] = "#store-faults"
        response.headers[HX_RESWAP] = "innerHTML show:top"
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["stuck_figures"] = stuck_figures
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, unavailable_answer)
    app.register_error_handler(sa.ProgrammingError, _programming_error)


def _programming_error(error: sa.ProgrammingError) -> Response:
    """PostgreSQL reports a missing table as a programming error; any other is a bug."""
    if schema_is_behind(error):
        return unavailable_answer(error)
    raise error
