"""The monthly report as PDF: figures computed from the log (``replay``), HTML from a Jinja
template in the requested language, WeasyPrint for the pages.

The PDF is a pure function of (database, month, log position, language,
template version), so rendered bytes are kept in a small in-process LRU: the
second download of the same report costs a dictionary look-up.
"""

import hashlib
import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

import weasyprint  # warm import: loading it is slow, and the first download should not pay for it
from flask import current_app, render_template
from flask_babel import (
    force_locale,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
)
from flask_babel import gettext as _
from weasyprint.urls import URLFetcher

from domain.errors import N_
from smarketing.audit.chain import Seal, seal_for
from smarketing.bootstrap import Services
from smarketing.present.charts import Bar, bar_chart_svg, funnel_svg
from smarketing.present.formatting import money, money_amounts, money_notes, money_split, percent_pattern
from smarketing.present.labels import label
from smarketing.reports.replay import (
    MonthlyFigures,
    ReportError,
    check_month,
    check_position,
    monthly_figures,
)

TEMPLATE = "report/monthly.html"
LANGUAGES = ("es", "en")
CACHE_SIZE = 16

_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_lock = threading.Lock()


def _fetcher() -> URLFetcher:
    # Only inline data: URLs. A report must never reach out to the network
    # (or the file system) whatever ends up in a lead's name or a template.
    return URLFetcher(allowed_protocols={"data"})


def template_version() -> str:
    """Hash of the template sources, so editing them invalidates cached PDFs."""
    env = current_app.jinja_env
    digest = hashlib.sha256()
    for name in env.list_templates(filter_func=lambda name: name.startswith("report/")):
        source, _filename, _uptodate = env.loader.get_source(env, name)  # type: ignore[union-attr]
        digest.update(source.encode())
    return digest.hexdigest()[:12]


def _cached(key: tuple[Any, ...]) -> bytes | None:
    with _lock:
        pdf = _cache.get(key)
        if pdf is not None:
            _cache.move_to_end(key)
        return pdf


def _remember(key: tuple[Any, ...], pdf: bytes) -> None:
    with _lock:
        _cache[key] = pdf
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ReportError(
            N_("Unknown language “%(lang)s”: choose one of %(choices)s."),
            lang=str(lang)[:10],
            choices=", ".join(LANGUAGES),
        )
    return lang


def render_monthly_pdf(
    services: Services,
    month: str,
    lang: str,
    log_position: int | None = None,
    *,
    today: date | None = None,
    budget: float | None = None,
) -> bytes:
    """The month's report as PDF bytes (needs a Flask app context for templates);
    ``budget`` as in ``monthly_figures``."""
    settings = services.settings
    today = today or datetime.now(settings.tz).date()
    lang = check_lang(lang)
    month = check_month(month, today)
    position = check_position(services, log_position)
    # The current month's statuses (at risk, on track) depend on the day too.
    day = today if month == today.strftime("%Y-%m") else None
    seal = month_seal(services, month)
    common = (settings.database_url, settings.timezone, month, lang, template_version(), day, seal)
    pdf = _cached((position, *common))
    if pdf is None:
        # Without an explicit position the figures come at the latest position the
        # replica reaches (at least ``position``: events may have arrived since),
        # and the PDF is kept under the position it prints.
        figures = monthly_figures(services, month, log_position=log_position, today=today, budget=budget)
        pdf = pdf_from_html(render_monthly_html(figures, lang, seal))
        _remember((figures.log_position, *common), pdf)
    return pdf


def month_seal(services: Services, month: str) -> Seal | None:
    """The month-end seal from the live log chain, printed so the report can be
    checked against the log later (``flask audit verify`` checks the seals)."""
    with services.read_engine.connect() as conn:
        return seal_for(conn, month)


def render_monthly_html(figures: MonthlyFigures, lang: str, seal: Seal | None = None) -> str:
    with force_locale(lang):
        return render_template(
            TEMPLATE,
            f=figures,
            seal=seal,
            lang=lang,
            month_start=date.fromisoformat(figures.month + "-01"),
            percent_pattern=percent_pattern(),
            format_date=format_date,
            format_datetime=format_datetime,
            format_decimal=format_decimal,
            format_percent=format_percent,
            format_currency=format_currency,
            money=money,
            money_split=money_split,  # (amounts, notes) of Money and MoneyFigure, with their currency
            money_amounts=money_amounts,  # a MoneyFigure's amounts alone, where space is short
            money_notes=money_notes,
            label=label,
            funnel_chart=_funnel_chart(figures),
            follow_up_chart=_follow_up_chart(figures),
        )


def pdf_from_html(html: str) -> bytes:
    return weasyprint.HTML(string=html, url_fetcher=_fetcher()).write_pdf()


def _funnel_chart(figures: MonthlyFigures) -> str:
    bars = []
    for stage in figures.funnel["stages"]:
        note = format_decimal(stage["count"])
        if stage["conversion"] is not None:
            note += " · " + format_percent(stage["conversion"], percent_pattern())
        bars.append(Bar(label("stage", stage["stage"]), stage["count"], note))
    return funnel_svg(bars, title=_("Funnel for leads captured this month"), width=660)


def _follow_up_chart(figures: MonthlyFigures) -> str:
    total = figures.follow_up["contacted"] or 1
    bars = [
        Bar(
            label("band", band["band"]),
            band["count"],
            f"{format_decimal(band['count'])} · {format_percent(band['count'] / total, percent_pattern(0))}",
            color="#0f766e" if i < 3 else "#b45309",
        )
        for i, band in enumerate(figures.follow_up["bands"])
    ]
    title = _("Time to first contact after MQL")
    return bar_chart_svg(bars, title=title, width=660, label_width=170)
