"""One counting rule (docs/FIGURES.md, "Reaching a stage"), every view agreeing on it,
month by month, on the Olist data imported as the README says and on the demo data
loaded by ``flask demo-data``: the funnel's reached stages against the scorecard's
facts, the scorecard against the dashboard, the scorecard export, the monthly meeting
pack (read model and page) and the monthly report (its figures and the HTML the PDF is
rendered from)."""

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.meeting import MONTHLY
from projections.engine.schema import from_db, month_of
from projections.models.funnel import REACHED, funnel_leads
from projections.models.scorecard import sla_facts
from projections.queries.funnel_query import funnel
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv
from smarketing.importing.plan import make_plan
from smarketing.importing.run import run_plan
from smarketing.reports.pdf import render_monthly_html
from smarketing.reports.replay import monthly_figures
from smarketing.service import meeting_pack
from smarketing.service.sla_terms import sla_in_force
from tests.integration.conftest import LoginFn

OLIST = Path(__file__).resolve().parents[3] / "shared/data/olist"
MQLS = OLIST / "olist_marketing_qualified_leads_dataset.csv"
DEALS = OLIST / "olist_closed_deals_dataset.csv"
MADRID = ZoneInfo("Europe/Madrid")
# Scorecard fact kind of each funnel stage reached.
KIND = {"MQL": "mql", "SQL": "sql", "Opportunity": "opportunity", "Customer": "won"}
COUNT = {"mql": "mqls", "sql": "sqls", "opportunity": "opportunities", "won": "won"}


def _funnel_reached(services: Services) -> dict[tuple[str, str], set[str]]:
    """(fact kind, month) -> leads whose first reach of that stage falls in the month."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    columns = [funnel_leads.c[column] for column in REACHED.values()]
    with services.read_engine.connect() as conn:
        for lead_id, *times in conn.execute(select(funnel_leads.c.lead_id, *columns)):
            for stage, at in zip(REACHED, times, strict=True):
                if at is not None:
                    found[(KIND[stage], month_of(from_db(at), services.settings.tz))].add(lead_id)
    return found


def _scorecard_reached(services: Services) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    with services.read_engine.connect() as conn:
        rows = conn.execute(
            select(sla_facts.c.kind, sla_facts.c.month, sla_facts.c.lead_id).where(
                sla_facts.c.kind.in_(list(COUNT))
            )
        )
        for kind, month, lead_id in rows:
            found[(kind, month)].add(lead_id)
    return found


def _cell(html: str, pattern: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match[1].strip()


def _views_agree(
    services: Services, client: FlaskClient, app: Flask, now: datetime, *, exact: bool
) -> list[str]:
    """Compare every view month by month; ``exact``: no lead re-enters a stage, so the
    funnel's first reaches and the scorecard's facts are the same sets."""
    tz = services.settings.tz
    funnel_side, card_side = _funnel_reached(services), _scorecard_reached(services)
    for key in funnel_side.keys() | card_side.keys():
        if exact:
            assert funnel_side[key] == card_side[key], key
        else:  # a re-entry counts again in the scorecard, never the other way round
            assert funnel_side[key] <= card_side[key], key
    months = sorted({month for _kind, month in card_side})
    for month in months:
        with services.read_engine.connect() as conn:
            actuals = scorecard_actuals(conn, month)
            start, end = meeting_pack.period_bounds(MONTHLY, month, tz)
            pack = meeting_pack.changes(conn, start, end, now, sla_in_force(conn, now, tz))
            cohort = funnel(conn, month)
        for kind, key in COUNT.items():
            assert actuals[key] == len(card_side[(kind, month)]), (month, kind)
        assert {k: pack["count"][k] for k in ("mql", "sql", "won", "lost", "rejected")} == {
            "mql": actuals["mqls"],
            "sql": actuals["sqls"],
            "won": actuals["won"],
            "lost": actuals["lost"],
            "rejected": actuals["rejected"],
        }, month
        # The funnel panel of the dashboard and the cohort funnel: the same counts.
        dashboard = client.get(f"/?month={month}").get_data(as_text=True)
        rows = re.findall(r'<tr><td>([^<]+)</td><td class="num">([\d,]+)</td>', dashboard)
        assert [n for _stage, n in rows] == [f"{s['count']:,}" for s in cohort["stages"]], month
        shown = _cell(dashboard, r"<td>MQLs delivered</td>\s*<td[^>]*>.*?</td>\s*<td[^>]*><strong>([^<]*)<")
        assert shown == f"{actuals['mqls']:,}", month
        # The scorecard export.
        exported = client.get(f"/export/scorecard.csv?month={month}").get_data(as_text=True)
        figures = dict(csv.reader(io.StringIO(exported)))
        assert [int(figures[k]) for k in COUNT.values()] == [actuals[k] for k in COUNT.values()], month
        # The monthly meeting of the next month reviews this one.
        page = client.get(f"/meetings/monthly?month={_next(month)}").get_data(as_text=True)
        assert _cell(page, r"<td>New SQLs</td><td[^>]*>([\d,]+)<") == f"{actuals['sqls']:,}", month
        assert _cell(page, r"<td>New MQLs</td><td[^>]*>([\d,]+)<") == f"{actuals['mqls']:,}", month
        # The monthly report: its figures and the HTML its PDF is rendered from.
        report = monthly_figures(services, month, today=now.astimezone(tz).date())
        assert {k: report.actuals[k] for k in (*COUNT.values(), "leads", "lost")} == {
            k: actuals[k] for k in (*COUNT.values(), "leads", "lost")
        }, month
        assert [s["count"] for s in report.funnel["stages"]] == [s["count"] for s in cohort["stages"]]
        with app.test_request_context():
            html = render_monthly_html(report, "en")
        tile = r'<div class="value">([^<]*)</div><div class="name">{}</div>'
        assert _cell(html, tile.format("MQLs delivered")) == f"{actuals['mqls']:,}", month
        assert _cell(html, tile.format("Deals won")) == f"{actuals['won']:,}", month
    return months


def _next(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


@pytest.mark.skipif(not (MQLS.exists() and DEALS.exists()), reason=f"Olist data not in {OLIST}")
def test_olist_views_agree_month_by_month(services: Services, web_app: Flask, login: LoginFn) -> None:
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    with time_machine.travel(now, tick=True):
        leads = run_plan(
            services.app, make_plan(read_csv(MQLS), mappings.load("olist-mqls", "leads"), MADRID)
        )
        deals = run_plan(
            services.app, make_plan(read_csv(DEALS), mappings.load("olist-deals", "deals"), MADRID)
        )
        assert (leads.errors, deals.errors) == ([], [])
        services.projector.catch_up()
        with services.read_engine.connect() as conn:
            august = scorecard_actuals(conn, "2018-08")
        # Every Olist deal is won straight from MQL: the win reaches SQL and Opportunity too.
        assert (august["won"], august["sqls"], august["opportunities"]) == (33, 33, 33)
        client = login(web_app.test_client(), "manager")
        months = _views_agree(services, client, web_app, now, exact=True)
    assert "2018-08" in months and len(months) >= 12


def test_demo_views_agree_month_by_month(services: Services, web_app: Flask, login: LoginFn) -> None:
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with time_machine.travel(now, tick=True):
        result = web_app.test_cli_runner().invoke(
            args=["demo-data", "--end-month", "2026-11", "--months", "4"]
        )
        assert result.exit_code == 0, result.output
        services.projector.catch_up()
        with services.read_engine.connect() as conn:
            implied = conn.execute(select(sla_facts.c.kind).where(sla_facts.c.implied == 1)).scalars().all()
        assert "mql" in implied  # outbound leads go Lead -> SQL with a reason: their MQL is implied
        client = login(web_app.test_client(), "manager")
        months = _views_agree(services, client, web_app, now, exact=False)
    assert months == ["2026-08", "2026-09", "2026-10", "2026-11"]
