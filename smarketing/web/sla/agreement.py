"""The SLA agreement page: targets in force for any month, setting and revising
them, the agreement's history, and the reverse-funnel planning helper.

More agreement pages (vocabulary, terms, attention, ready for MQL; money) add their
routes to the same blueprint (``agreement_blueprint``) in ``agreement_pages`` and
``money_pages``; ``init_app`` registers it with all of them.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from domain.agreement import (
    AVG_DEAL_PER_OPPORTUNITY,
    METRICS,
    MQLS_DELIVERED,
    REVENUE_GOAL,
    SLICE_DIMENSIONS,
    YEARS_AHEAD,
    add_months,
)
from domain.errors import N_, InvalidInput
from domain.planning import reverse_funnel
from projections.models.agreement_docs import CRITERIA, PERSONA, current_docs
from projections.models.targets import sla_targets, slice_targets_in_force, target_history, targets_for
from projections.queries import funnel_query
from projections.queries.scorecard_query import avg_deal_per_opportunity
from smarketing.extensions import services
from smarketing.present.formatting import measure
from smarketing.present.labels import label, period_name
from smarketing.web.core.catch_up import catch_up_after_write
from smarketing.web.core.errors import field_message, translated
from smarketing.web.core.hx import wants_fragment
from smarketing.web.input import forms
from smarketing.web.sla import (
    agreement_pages,  # noqa: F401 - adds its routes to bp
    money_pages,  # noqa: F401 - adds its routes to bp
)
from smarketing.web.sla.agreement_blueprint import bp
from smarketing.web.sla.dashboard import _month

PLAN_MONTHS = 3


def this_month() -> str:
    return datetime.now(UTC).astimezone(services().settings.tz).strftime("%Y-%m")


def _asked_month(value: str) -> str:
    """A month whose targets the page may show: as far ahead as targets may be set."""
    now = datetime.now(UTC)
    return _month(value, this_month(), datetime(now.year + YEARS_AHEAD, 12, 31, tzinfo=UTC) - now)


def _targets_context(month: str) -> dict[str, Any]:
    with services().read_engine.connect() as conn:
        in_force = targets_for(conn, month)
        own = {
            metric
            for (metric,) in conn.execute(
                sla_targets.select()
                .with_only_columns(sla_targets.c.metric)
                .where(sla_targets.c.month == month, sla_targets.c.slice_by == "")
            )
        }
        history = list(reversed(target_history(conn)))
        slices = slice_targets_in_force(conn, month)
        known = {d: funnel_query.dimension_values(conn, d) for d in SLICE_DIMENSIONS}
    sides: dict[str, list[dict[str, Any]]] = {"marketing": [], "sales": []}
    for metric in METRICS.values():
        sides[metric.side].append(
            {
                "metric": metric.name,
                "unit": metric.unit,
                "value": in_force.get(metric.name),
                "carried": metric.name in in_force and metric.name not in own,
            }
        )
    units = {m.name: m.unit for m in METRICS.values()}
    return {
        "month": month,
        "sides": sides,
        "history": history,
        "metrics": list(METRICS),
        "units": units,
        "slices": slices,
        "slice_dimensions": SLICE_DIMENSIONS,
        "known_slices": known,
    }


BODY_TARGET = "agreement-body"  # the target form and the plan's "make it the target" post here
PLAN_TARGET = "plan"  # the plan form computes into it


def _render(status: int = 200, **context: Any) -> tuple[str, int]:
    if wants_fragment(BODY_TARGET):
        return render_template("partials/agreement_body.html", **context), status
    if context.get("plan") is None:  # the full page shows the plan for the month's own goal
        context |= plan_context(context["month"], use_query=False)
    return render_template("agreement.html", **context), status


@bp.get("/")
def index() -> tuple[str, int]:
    month = _asked_month(request.args.get("month", ""))
    return _render(**_targets_context(month), form={"month": month}, errors={})


@bp.post("/targets")
def set_target() -> BaseResponse | tuple[str, int]:
    fields = ("month", "metric", "value", "reason", "slice_by", "slice_value")
    form = {k: forms.text(request.form, k) for k in fields}
    month = form["month"] or this_month()
    try:
        value = forms.number(request.form, "value")
        services().app.set_target(
            form["month"],
            form["metric"],
            "" if value is None else value,
            form["reason"],
            slice_by=form["slice_by"],
            slice_value=form["slice_value"],
        )
    except InvalidInput as error:
        context = _targets_context(_safe_month(month))
        return _render(422, **context, form=form, errors={error.field: field_message(error)})
    catch_up_after_write()
    if not wants_fragment(BODY_TARGET):
        return redirect(url_for("agreement.index", month=form["month"]), code=303)
    message = _saved_message(form["month"], form["metric"])
    return _render(
        **_targets_context(form["month"]),
        form={"month": form["month"]},
        errors={},
        message=message,
    )


def _saved_message(month: str, metric: str) -> str:
    """The confirmation, with the target as stored, in the reader's notation."""
    with services().read_engine.connect() as conn:
        value = targets_for(conn, month).get(metric)
    if value is None:  # the read model lags: the write itself was stored
        return _("Target saved.")
    return _(
        "Target saved: %(metric)s for %(month)s is %(value)s.",
        metric=label("metric", metric),
        month=period_name("monthly", month),
        value=measure(value, METRICS[metric].unit),
    )


def _safe_month(month: str) -> str:
    try:
        return _asked_month(month)
    except InvalidInput:
        return this_month()


def _decimal(name: str, default: Decimal | None, use_query: bool = True) -> Decimal | None:
    value = forms.number(request.args, name) if use_query else None
    if value is None:
        return default
    if value <= 0 or value > Decimal("1e12"):
        raise InvalidInput(name, N_("must be a positive number"))
    return value


def plan_context(month: str, use_query: bool = True) -> dict[str, Any]:
    """Inputs (from the query, else the agreement and last months) and the computed plan."""
    sample = [add_months(month, -n) for n in range(PLAN_MONTHS, 0, -1)]
    with services().read_engine.connect() as conn:
        targets = targets_for(conn, month)
        reached = funnel_query.reached_counts(conn, sample)
        actual_deal = next(
            (a for m in reversed(sample) if (a := avg_deal_per_opportunity(conn, m))),
            None,
        )
    goal = _decimal("goal", targets.get(REVENUE_GOAL), use_query)
    deal_default = targets.get(AVG_DEAL_PER_OPPORTUNITY) or (
        Decimal(str(actual_deal)) if actual_deal else None
    )
    avg_deal = _decimal("avg_deal", deal_default, use_query)
    plan = reverse_funnel(goal, avg_deal, reached) if goal and avg_deal else None
    reason = ""
    if plan and plan.mqls is not None:
        reason = _(
            "Reverse funnel: %(goal)s goal / %(deal)s average deal = %(customers)s customers; "
            "MQL→Customer %(rate).1f%% over %(first)s–%(last)s → %(mqls)s MQLs",
            goal=measure(goal, "eur"),
            deal=measure(avg_deal, "eur"),
            customers=plan.customers,
            rate=100 * (plan.mql_to_customer or 0),
            first=sample[0],
            last=sample[-1],
            mqls=plan.mqls,
        )
    return {
        "plan": plan,
        "goal": goal,
        "avg_deal": avg_deal,
        "sample": sample,
        "reached": reached,
        "plan_month": month,
        "plan_reason": reason,
        "plan_metric": MQLS_DELIVERED,
    }


@bp.get("/plan")
def plan() -> Response | tuple[str, int]:
    month = _asked_month(request.args.get("month", ""))
    try:
        context = plan_context(month)
    except InvalidInput as error:
        if wants_fragment(PLAN_TARGET):
            return render_template(
                "partials/plan.html", plan_error=translated(error), plan=None, plan_month=month
            ), 422
        # The whole page, the refusal in the plan's place (and the agreement's own plan kept).
        return _render(
            422, **_targets_context(month), form={"month": month}, errors={}, plan_error=translated(error)
        )
    if wants_fragment(PLAN_TARGET):
        return render_template("partials/plan.html", **context), 200
    return _render(**_targets_context(month), form={"month": month}, errors={}, **context)


def init_app(app: Flask) -> None:
    from smarketing.cli import scoring_cli

    app.register_blueprint(bp)
    scoring_cli.init_app(app)
    app.jinja_env.globals["stage_vocabulary"] = stage_vocabulary


def stage_vocabulary() -> dict[str, Any]:
    """For the lead page's stage-change form: the criteria and personas as they read now."""
    with services().read_engine.connect() as conn:
        return {"criteria": current_docs(conn, CRITERIA), "personas": current_docs(conn, PERSONA)}
