"""Reports page: pick a month, download the manager PDF (replayed from the log)."""

from datetime import datetime

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale

from domain.agreement import add_months
from smarketing.extensions import services
from smarketing.reports.pdf import LANGUAGES, render_monthly_pdf
from smarketing.reports.replay import ReportError, ReportNotReady
from smarketing.web.core.errors import message_of, render_error

bp = Blueprint("reports", __name__, url_prefix="/reports")

# Seconds a download may spend bringing the report replica up to date: gunicorn
# kills a worker after 30 s, and the render itself needs a few. Normally the
# projector process keeps the replica warm and this costs milliseconds.
CATCH_UP_BUDGET = 15.0


@bp.get("/")
def index() -> str:
    this_month = datetime.now(services().settings.tz).strftime("%Y-%m")
    # Managers read the month that just closed; the running one stays selectable.
    return render_template(
        "reports.html",
        default_month=add_months(this_month, -1),
        latest_month=this_month,
        languages=LANGUAGES,
        lang=str(get_locale() or "es"),
    )


@bp.get("/monthly.pdf")
def monthly_pdf() -> Response | tuple[str, int]:
    month = request.args.get("month", "")[:20]
    lang = request.args.get("lang", "") or str(get_locale() or "es")
    try:
        pdf = render_monthly_pdf(services(), month, lang, budget=CATCH_UP_BUDGET)
    except ReportNotReady as error:
        message, status = render_error(message_of(error), 503)
        return Response(message, status, headers={"Retry-After": "60"})
    except ReportError as error:
        return render_error(message_of(error), 400)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="smarketing-{month}-{lang}.pdf"'},
    )
