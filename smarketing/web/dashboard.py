"""Dashboard: this month's SLA scorecard and funnel, with filters that update
the panels in place."""

from datetime import UTC, datetime

from flask import Blueprint, Response, request

from domain.errors import InvalidInput
from projections import funnel_query
from smarketing.extensions import services
from smarketing.web.hx import page_or_fragment

bp = Blueprint("dashboard", __name__)

PANEL_TARGETS = ("dashboard-panels",)


def _month(value: str, default: str) -> str:
    if not value:
        return default
    try:
        datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise InvalidInput("month", "must look like 2026-10") from None
    return value


@bp.get("/")
def index() -> Response:
    svc = services()
    today = datetime.now(UTC).astimezone(svc.settings.tz)
    month = _month(request.args.get("month", ""), today.strftime("%Y-%m"))
    filters = {k: request.args.get(k, "")[:100] for k in funnel_query.DIMENSIONS}
    with svc.read_engine.connect() as conn:
        funnel = funnel_query.funnel(conn, month, **filters)
        choices = {d: funnel_query.dimension_values(conn, d) for d in funnel_query.DIMENSIONS}
        months = funnel_query.cohort_months(conn)
    return page_or_fragment(
        "dashboard.html",
        "partials/dashboard_panels.html",
        PANEL_TARGETS,
        month=month,
        months=sorted(set(months) | {today.strftime("%Y-%m")}, reverse=True),
        filters=filters,
        choices=choices,
        funnel=funnel,
    )
