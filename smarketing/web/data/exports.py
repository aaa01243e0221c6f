"""Downloads: the lead list as filtered on screen, funnel and scorecard tables,
and one lead's complete history as JSON. CSV cells go through exporting.safe_cell."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, request, stream_with_context
from flask_babel import get_locale

from domain.errors import N_, InvalidInput
from domain.money import MoneyFigure
from projections.models import data_quality
from projections.queries import leads_query
from projections.queries.funnel_query import DIMENSIONS as FUNNEL_DIMENSIONS
from projections.queries.funnel_query import funnel
from projections.queries.scorecard_query import DIMENSIONS as SCORECARD_DIMENSIONS
from projections.queries.scorecard_query import scorecard_actuals
from projections.queries.stats import cents_to_money
from smarketing.audit import history
from smarketing.extensions import services
from smarketing.present.exporting import CsvStyle, csv_lines, csv_text, rounded
from smarketing.present.formatting import FIGURE_UNITS, measure
from smarketing.present.labels import label
from smarketing.present.periods import month_arg
from smarketing.service.application import parse_lead_id
from smarketing.service.sla_terms import overdue_terms
from smarketing.web.pipeline.leads import _query_from_args

bp = Blueprint("exports", __name__)

LEAD_COLUMNS = (
    "lead_id", "name", "email", "company", "source", "sourced_by", "campaign", "persona", "stage",
    "owner", "team", "captured_at", "stage_entered_at", "last_activity_at", "mql_at",
    "first_contact_at", "last_contact_at", "attempts", "interactions", "won_amount", "currency",
    "data_quality",
)  # fmt: skip
# Beside the machine keys (source, campaign), the words people read, in the reader's language.
LABEL_COLUMNS = ("source_label", "campaign_label")
PAGE = 1000  # rows fetched per query while streaming


def reader_style() -> CsvStyle:
    """The reader's spreadsheet convention; ``?format=raw`` the machine form (exporting)."""
    chosen = request.args.get("format", "").strip().lower()
    if chosen not in ("", "raw", "sheet"):
        raise InvalidInput("format", N_("must be “sheet” (your spreadsheet's convention) or “raw”"))
    return CsvStyle.for_reader(get_locale(), raw=chosen == "raw")


def _shown(style: CsvStyle, value: object, unit: str) -> object:
    return value if style.raw else rounded(value, unit)


def _csv(lines: Iterator[str] | str, filename: str) -> Response:
    response = Response(lines, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/leads/export.csv")
def leads_csv() -> Response:
    """Every lead matching the list's filters (same query args as /leads/), streamed."""
    svc = services()
    query = _query_from_args()
    query.after, query.limit = "", PAGE
    now = datetime.now(UTC)

    def rows() -> Iterator[list[object]]:
        with svc.read_engine.connect() as conn:
            while True:
                page = leads_query.list_leads(conn, query, now, **overdue_terms(conn, now, svc.settings.tz))
                # The data-quality flags' kinds, space-separated (empty: none).
                flagged = data_quality.kinds_by_lead(conn, [lead["lead_id"] for lead in page["leads"]])
                for lead in page["leads"]:
                    lead["data_quality"] = " ".join(flagged.get(lead["lead_id"], []))
                    cents = lead["won_amount_cents"]
                    lead["won_amount"] = None if cents is None else cents_to_money(cents)
                    words = [label("source", lead["source"]), label("campaign", lead["campaign"] or "")]
                    yield [lead[c] for c in LEAD_COLUMNS] + words
                if not page["next"]:
                    return
                query.after = page["next"]  # keyset paging: no row skipped or repeated

    lines = csv_lines([*LEAD_COLUMNS, *LABEL_COLUMNS], rows(), svc.settings.tz, reader_style())
    return _csv(stream_with_context(lines), "leads.csv")


def _month() -> str:
    month = request.args.get("month", "").strip()
    return month_arg(month) if month else ""


@bp.get("/export/funnel.csv")
def funnel_csv() -> Response:
    svc = services()
    month = _month()
    filters = {d: request.args.get(d, "")[:100] for d in FUNNEL_DIMENSIONS}
    with svc.read_engine.connect() as conn:
        data = funnel(conn, month or None, **filters)
    medians, style = data["median_days_in_stage"], reader_style()
    rows: list[list[object]] = []
    for s in data["stages"]:
        conversion = _shown(style, s["conversion"], "ratio")
        rows.append([s["stage"], s["count"], conversion, _shown(style, medians.get(s["stage"]), "days")])
    rows += [[name, data[name], None, None] for name in ("disqualified", "recycled", "rejected", "skips")]
    header = ["stage", "leads", "conversion_from_previous", "median_days_in_stage"]
    return _csv(csv_text(header, rows, style=style), f"funnel-{month or 'all'}.csv")


@bp.get("/export/scorecard.csv")
def scorecard_csv() -> Response:
    svc = services()
    month = _month() or datetime.now(UTC).astimezone(svc.settings.tz).strftime("%Y-%m")
    filters: dict[str, Any] = {d: request.args.get(d, "")[:100] for d in SCORECARD_DIMENSIONS}
    with svc.read_engine.connect() as conn:
        data = scorecard_actuals(conn, month, **filters)
    skip, style = {"month", "filters", "follow_up_delays_hours"}, reader_style()
    rows = [row for name, value in data.items() if name not in skip for row in _figure_rows(name, value)]
    rows = [[name, _shown(style, value, FIGURE_UNITS.get(str(name), ""))] for name, value in rows]
    return _csv(csv_text(["metric", "value"], rows, style=style), f"scorecard-{month}.csv")


def _figure_rows(name: str, value: object) -> list[list[object]]:
    """A money figure as several rows: its value in the base currency (empty when some
    currency has no rate), that currency, how it reads (each amount with its own
    currency's symbol, notes included) and how many wins had an amount or none."""
    if not isinstance(value, MoneyFigure):
        return [[name, value]]
    return [
        [name, value.value],
        [f"{name}_currency", value.base],
        [f"{name}_text", measure(value, "eur")],
        [f"{name}_wins_with_amount", value.known],
        [f"{name}_wins_without_amount", value.unknown],
    ]


@bp.get("/leads/<lead_id>/history.json")
def history_json(lead_id: str) -> Response:
    """The same export auditors download, for anyone who may read leads."""
    response = Response(history.history_json(services(), lead_id), mimetype="application/json")
    filename = f"lead-{parse_lead_id(lead_id)}-history.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
