"""Data-quality page: every lead whose history was recorded out of order, by kind.

The flags come from the ``data_quality`` read model (``projections.models.data_quality``);
nothing here changes the history, which stays as recorded. Managers and auditors
read it (``report.read``); the lead page and the lead export carry the same flags.
"""

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, render_template, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, select

from projections.engine.rows import chunks
from projections.models import data_quality as dq
from projections.models.lead_summary import lead_summary
from smarketing.extensions import services
from smarketing.present.exporting import csv_lines
from smarketing.web.data.exports import reader_style

bp = Blueprint("data_quality", __name__, url_prefix="/data-quality")

SHOWN_PER_KIND = 500  # rows listed per kind on the page; the CSV has them all

KIND_LABELS = {
    dq.WON_BEFORE_FIRST_CONTACT: _l("Won before the lead's first contact"),
    dq.STAGE_BEFORE_FIRST_CONTACT: _l("Stage change before the lead's first contact"),
    dq.STAGE_DATES_BACKWARDS: _l("Stage dates going backwards"),
    "amount_unknown": _l("Deal without an amount"),
    "other": _l("Other"),
}

KIND_HELP = {
    dq.WON_BEFORE_FIRST_CONTACT: _l(
        "The deal's won date is earlier than the date the lead was first contacted (captured)."
    ),
    dq.STAGE_BEFORE_FIRST_CONTACT: _l(
        "A stage change is dated before the lead was first contacted (captured)."
    ),
    dq.STAGE_DATES_BACKWARDS: _l("A stage change is dated before the lead's previous stage change."),
}


def kind_label(kind: str) -> str:
    """The reader's words for a flag or import-warning kind."""
    found = KIND_LABELS.get(kind)
    return str(found) if found is not None else kind.replace("_", " ").capitalize()


def lead_names(conn: Connection, lead_ids: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for chunk in chunks(sorted(set(lead_ids))):
        query = select(lead_summary.c.lead_id, lead_summary.c.name).where(lead_summary.c.lead_id.in_(chunk))
        names.update({lead_id: name for lead_id, name in conn.execute(query)})
    return names


@bp.get("/")
def index() -> str:
    svc = services()
    with svc.read_engine.connect() as conn:
        counted = dq.counts(conn)
        kinds: list[dict[str, Any]] = []
        for kind in dq.KINDS:
            events, leads = counted[kind]["flags"], counted[kind]["leads"]
            rows = dq.flags_of_kind(conn, kind, limit=SHOWN_PER_KIND) if events else []
            kinds.append({"kind": kind, "rows": rows, "events": events, "leads": leads})
        names = lead_names(conn, [f["lead_id"] for k in kinds for f in k["rows"]])
    return render_template(
        "data_quality.html", kinds=kinds, names=names, shown=SHOWN_PER_KIND, help=KIND_HELP
    )


CSV_COLUMNS = ["kind", "lead_id", "version", "stage", "occurred_at", "reference_at"]


@bp.get("/flags.csv")
def flags_csv() -> Response:
    svc = services()

    def rows() -> Iterator[list[object]]:
        with svc.read_engine.connect() as conn:
            for kind in dq.KINDS:
                for flag in dq.flags_of_kind(conn, kind):
                    yield [flag[c] for c in CSV_COLUMNS]

    lines = csv_lines(CSV_COLUMNS, rows(), svc.settings.tz, reader_style())
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="data-quality-flags.csv"'
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["dq_label"] = kind_label
