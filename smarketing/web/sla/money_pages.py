"""The agreement's money terms (``domain.money``): the base currency targets are
in and figures converted to, and the exchange rates managers record (per
currency, valid from a date), listed with their history. Routes on the
agreement blueprint; recording is the managers' (``agreement.write``)."""

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import InvalidInput
from projections.models.money_terms import money_book, money_history
from smarketing.extensions import services
from smarketing.web.core.catch_up import catch_up_after_write
from smarketing.web.core.errors import translated
from smarketing.web.core.hx import wants_fragment
from smarketing.web.input import forms
from smarketing.web.input.amount_input import parse_amount
from smarketing.web.sla.agreement_blueprint import bp

MONEY_TARGET = "money-body"  # the page's two forms post here (hx-target)


def _money(status: int = 200, **extra: Any) -> tuple[str, int]:
    with services().read_engine.connect() as conn:
        book = money_book(conn)
        history = money_history(conn)
    context = {"base": book.base, "history": history, "errors": {}, "form": {}} | extra
    template = "partials/money_body.html" if wants_fragment(MONEY_TARGET) else "agreement_money.html"
    return render_template(template, **context), status


@bp.get("/money")
def money() -> tuple[str, int]:
    return _money()


@bp.post("/money/<part>")
def money_write(part: str) -> BaseResponse | tuple[str, int]:
    if part not in ("base", "rate"):
        abort(404)  # no such form: nothing on the page could show the refusal
    app, form = services().app, request.form
    fields = {k: forms.text(form, k) for k in ("currency", "rate", "valid_from", "reason")}
    try:
        if part == "base":
            app.set_base_currency(fields["currency"], fields["reason"])
        else:
            rate = parse_amount(fields["rate"], "rate")
            app.set_exchange_rate(fields["currency"], rate, fields["valid_from"], fields["reason"])
    except InvalidInput as error:
        return _money(422, errors={part: translated(error)}, form={part: fields})
    catch_up_after_write()
    if not wants_fragment(MONEY_TARGET):
        return redirect(url_for("agreement.money"), code=303)
    return _money(message=_("Saved. The change is in the history below."))
