"""Leads: the list (live search, filters, sorting, infinite scroll) and the new-lead form."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import N_, DuplicateEmail, InvalidInput
from domain.validation import clean_email
from domain.vocabulary import Stage
from projections.queries import leads_query
from projections.queries.leads_query import SORTS, LeadQuery
from smarketing.extensions import services
from smarketing.present.source_words import campaign_choices, campaigns, source_choices
from smarketing.service.sla_terms import overdue_terms
from smarketing.web.core.catch_up import catch_up_after_write
from smarketing.web.core.errors import field_message, translated
from smarketing.web.core.hx import HX_LOCATION, is_htmx, page_or_fragment, wants_fragment
from smarketing.web.input import forms

bp = Blueprint("leads", __name__, url_prefix="/leads")

LEAD_FIELDS = ("name", "email", "phone", "company", "source", "campaign", "landing_page", "persona")
ROWS_TARGETS = ("lead-rows", "more-leads")
FORM_TARGET = "lead-form"  # the new-lead form swaps itself (hx-target, outerHTML)


def _query_from_args() -> LeadQuery:
    args = request.args
    return LeadQuery(
        q=args.get("q", "").strip()[:100],
        stage=args.get("stage", "") if args.get("stage") in {s.value for s in Stage} else "",
        owner=args.get("owner", "")[:100],
        source=args.get("source", "")[:100],
        campaign=args.get("campaign", "")[:100],
        overdue=args.get("overdue") == "1",
        sort=args.get("sort", "newest") if args.get("sort") in SORTS else "newest",
        after=args.get("after", "")[:300],
    )


@bp.get("/")
def index() -> Response:
    svc = services()
    query = _query_from_args()
    with svc.read_engine.connect() as conn:
        now = datetime.now(UTC)
        terms = overdue_terms(conn, now, svc.settings.tz)
        try:
            page = leads_query.list_leads(conn, query, now, **terms)
        except (ValueError, TypeError):
            raise InvalidInput("after", N_("is not a valid page cursor")) from None
        choices = {
            "owner": [(v, v) for v in leads_query.distinct_values(conn, "owner")],
            "source": source_choices(conn, leads_query.distinct_values(conn, "source")),
            "campaign": campaign_choices(leads_query.distinct_values(conn, "campaign")),
        }
    export_args = {k: v for k, v in request.args.items() if k != "after"}
    next_args = export_args | {"after": page["next"]}
    return page_or_fragment(
        "leads.html",
        "partials/lead_rows.html",
        ROWS_TARGETS,
        query=query,
        page=page,
        export_args=export_args,
        choices=choices,
        stages=[s.value for s in Stage],
        sorts=list(SORTS),
        next_url=url_for("leads.index", **next_args) if page["next"] else "",
        now=datetime.now(UTC),
    )


@bp.get("/new")
def new() -> str:
    return render_template("lead_new.html", values={}, errors={})


@bp.post("/new")
def create() -> BaseResponse | tuple[str, int]:
    svc = services()
    values: dict[str, Any] = {name: forms.text(request.form, name) for name in LEAD_FIELDS}
    try:
        with svc.read_engine.connect() as conn:
            known_campaigns = campaigns(conn)  # "Feria Digital" is written as the existing "feria-digital"
        lead_id = svc.app.capture_lead(
            **values,
            occurred_at=forms.business_time(request.form, svc.settings.tz),
            known_campaigns=known_campaigns,
        )
    except InvalidInput as error:
        return _form_again(values, {error.field: field_message(error)}, 422)
    except DuplicateEmail as error:
        existing = svc.app.lead_id_for_email(values["email"])
        return _form_again(values, {"email": translated(error)}, 409, existing=existing)
    catch_up_after_write()
    target = url_for("lead_page.show", lead_id=UUID(lead_id).hex)
    if is_htmx():  # htmx goes to the new lead's page itself, whatever the request aimed at
        response = Response(status=204)
        response.headers[HX_LOCATION] = target
        return response
    return redirect(target, code=303)


def _form_again(values: dict, errors: dict, status: int, existing: str | None = None) -> tuple[str, int]:
    template = "partials/lead_form.html" if wants_fragment(FORM_TARGET) else "lead_new.html"
    return render_template(template, values=values, errors=errors, existing=existing), status


@bp.get("/check-email")
def check_email() -> str:
    """Inline check while typing: format and duplicates, before submitting."""
    email = request.args.get("email", "")
    message, existing = "", None
    try:
        email = clean_email(email)
        existing = services().app.lead_id_for_email(email)
    except InvalidInput as error:
        message = field_message(error)
    return render_template("partials/email_check.html", message=message, existing=existing)
