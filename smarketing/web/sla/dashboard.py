"""Dashboard: this month's SLA scorecard and funnel, with filters that update
the panels in place."""

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Connection

from domain.validation import HORIZON
from projections.cached.funnel_cache import cohort_funnel
from projections.cached.scorecard_view import scorecard
from projections.queries import data_months, funnel_query
from smarketing.extensions import services
from smarketing.present.charts import Bar, funnel_svg
from smarketing.present.formatting import measure
from smarketing.present.labels import label, period_name
from smarketing.present.periods import month_arg
from smarketing.present.source_words import campaign_choices, source_choices
from smarketing.service.sla_terms import agreement_counts
from smarketing.web.core.hx import page_or_fragment

bp = Blueprint("dashboard", __name__)

PANEL_TARGETS = ("dashboard-panels",)


def _month(value: str, default: str, ahead: timedelta = HORIZON) -> str:
    """The ``?month=`` asked for (checked by smarketing.present.periods), else ``default``."""
    return month_arg(value, ahead=ahead) if value else default


def funnel_chart(funnel: dict) -> str:
    bars = [
        Bar(
            label=label("stage", s["stage"]),
            value=s["count"],
            annotation=measure(s["count"], "count")
            + ("" if s["conversion"] is None else " · " + measure(s["conversion"], "ratio")),
        )
        for s in funnel["stages"]
    ]
    month = period_name("monthly", funnel["month"])  # in words, as the headings name it
    return funnel_svg(bars, title=_("Funnel: leads captured in %(month)s", month=month))


@bp.get("/")
def index() -> Response:
    svc = services()
    now = datetime.now(UTC)
    today = now.astimezone(svc.settings.tz)
    month = _month(request.args.get("month", ""), today.strftime("%Y-%m"))
    filters = {k: request.args.get(k, "")[:100] for k in funnel_query.DIMENSIONS}
    with svc.read_engine.connect() as conn:
        funnel = cohort_funnel(conn, month, **filters)
        # Follow-up deadlines run on the agreement's calendar, and only up to now.
        follow_up = agreement_counts(conn, now, svc.settings.tz)
        card = scorecard(conn, month, today=today.date(), now=now, calendar=follow_up["calendar"], **filters)
        choices = {  # (value, words): sources and campaigns as the vocabulary names them
            "source": source_choices(conn, funnel_query.dimension_values(conn, "source")),
            "campaign": campaign_choices(funnel_query.dimension_values(conn, "campaign")),
            "owner": [(v, v) for v in funnel_query.dimension_values(conn, "owner")],
        }
        months = funnel_query.cohort_months(conn)
        hours = float(card["terms"]["follow_up_hours"])
        empty = _empty_month(conn, month, today.strftime("%Y-%m"), filters)
    return page_or_fragment(
        "dashboard.html",
        "partials/dashboard_panels.html",
        PANEL_TARGETS,
        month=month,
        months=sorted(set(months) | {today.strftime("%Y-%m"), month}, reverse=True),
        filters=filters,
        choices=choices,
        funnel=funnel,
        chart=funnel_chart(funnel),
        card=card,
        overdue=follow_up["overdue"],
        follow_up_hours=hours,
        follow_up=follow_up,
        empty_month=empty,
    )


def _empty_month(
    conn: Connection, month: str, this_month: str, filters: dict[str, str]
) -> dict[str, str | None] | None:
    """When ``month`` holds no data at all: the latest month that does (up to this
    month, else any), for the page to say so and link to it; None when it has data."""
    if data_months.month_has_data(conn, month):
        return None
    latest = data_months.latest_month_with_data(conn, this_month) or data_months.latest_month_with_data(conn)
    if latest is None or latest == month:
        return {"latest": None, "url": None}
    chosen: dict[str, Any] = {k: v for k, v in filters.items() if v}  # Any: url_for's _external...
    return {"latest": latest, "url": url_for("dashboard.index", month=latest, **chosen)}
