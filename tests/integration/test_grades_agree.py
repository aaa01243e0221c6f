"""The weekly agenda and the dashboard grade the same month alike (one function,
``scorecard_view.scorecard``), and the agenda says which month it grades. Time frozen
on a Monday early in the month: the reviewed week is mostly last month, the dashboard
opens on the new one (the case where they used to disagree)."""

import re
from datetime import UTC, datetime

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from smarketing.bootstrap import Services
from smarketing.present.labels import label
from smarketing.reports.replay import monthly_figures
from tests.integration.conftest import LoginFn
from tests.office_hours import MADRID_OFFICE

MONDAY = datetime(2026, 12, 7, 10, tzinfo=UTC)  # ISO week 2026-W50


def _history(services: Services) -> None:
    app = services.app
    app.set_target("2026-11", "revenue_goal", "10000", occurred_at=datetime(2026, 11, 1, 9, tzinfo=UTC))
    app.set_target("2026-11", "mqls_delivered", "5", occurred_at=datetime(2026, 11, 1, 9, tzinfo=UTC))
    for n, won_at in enumerate(
        (datetime(2026, 11, 10, 12, tzinfo=UTC), datetime(2026, 12, 2, 12, tzinfo=UTC))
    ):
        lead_id = app.capture_lead(
            name=f"W{n}", email=f"w{n}@example.org", source="webinar", occurred_at=won_at.replace(day=1)
        )
        app.change_stage(lead_id, to_stage="MQL", occurred_at=won_at.replace(day=1))
        app.mark_won(lead_id, amount="3000", reason="Signed at once", occurred_at=won_at)
    services.projector.catch_up()


def _dashboard_statuses(client: FlaskClient, month: str) -> dict[str, str]:
    html = client.get(f"/?month={month}").get_data(as_text=True)
    rows = re.findall(r'<tr>\s*<td>([^<]+)</td>.*?<td class="status-(\w+)"[^>]*>', html, re.S)
    assert rows, html[:500]
    return dict(rows)


def _agenda(client: FlaskClient, query: str, kind: str = "weekly") -> tuple[str, dict[str, tuple[str, str]]]:
    html = client.get(f"/meetings/{kind}{query}").get_data(as_text=True)
    graded = re.search(r'id="graded-month">Targets graded for [^<]*<a href="/\?month=(\d{4}-\d{2})"', html)
    assert graded, html[:500]
    items = re.findall(r': ([^:<]+) \([^)]+\) — <span class="status-(\w+)" data-month="(\d{4}-\d{2})">', html)
    return graded[1], {metric: (month, status) for metric, status, month in items}


def _agree(client: FlaskClient, query: str, kind: str = "weekly") -> tuple[str, dict[str, tuple[str, str]]]:
    month, agenda = _agenda(client, query, kind)
    dashboard = _dashboard_statuses(client, month)
    assert {m: (month, s) for m, s in dashboard.items() if s in ("missed", "at_risk")} == agenda
    return month, agenda


def test_weekly_agenda_grades_the_dashboards_month_alike(
    services: Services, web_app: Flask, login: LoginFn
) -> None:
    with time_machine.travel(MONDAY, tick=True):
        _history(services)
        client = login(web_app.test_client(), "manager")
        # This week's meeting: the month in progress, as the dashboard opens on it.
        month, agenda = _agree(client, "")
        assert month == "2026-12"
        assert _dashboard_statuses(client, "") == _dashboard_statuses(client, "2026-12")
        # 3,000 by the 7th of 10,000 a month is on pace; 1 MQL of a pace of 5 × 7/31 is close.
        assert _dashboard_statuses(client, "2026-12")["Revenue"] == "on_track"
        assert agenda == {"MQLs delivered": ("2026-12", "at_risk")}
        # Last week (30 Nov - 6 Dec) ran into December too; the week before is November's, over.
        assert _agree(client, "?week=2026-W49")[0] == "2026-12"
        month, agenda = _agree(client, "?week=2026-W48")
        assert (month, agenda["Revenue"]) == ("2026-11", ("2026-11", "missed"))


def test_the_monthly_report_and_meeting_grade_a_month_as_the_dashboard(
    services: Services, web_app: Flask, login: LoginFn
) -> None:
    """On an office-hours calendar: an MQL of Friday 17:00 answered Monday 10:00 is in
    time for 4 business hours (65 elapsed); the report used to measure it in elapsed
    hours with 24 h, and so graded the month unlike the dashboard."""
    with time_machine.travel(MONDAY, tick=True):
        _history(services)
        app, agreed = services.app, datetime(2026, 11, 1, 9, tzinfo=UTC)
        app.set_terms("calendar", MADRID_OFFICE, "Sales works office hours", occurred_at=agreed)
        app.set_target("2026-11", "follow_up_hours", "4", occurred_at=agreed)
        app.set_target("2026-11", "follow_up_share", "0.5", occurred_at=agreed)
        friday = datetime(2026, 11, 13, 16, tzinfo=UTC)
        lead_id = app.capture_lead(name="F", email="f@example.org", source="webinar", occurred_at=friday)
        app.change_stage(lead_id, to_stage="MQL", occurred_at=friday)
        app.log_contact_attempt(
            lead_id, channel="phone", outcome="connected", occurred_at=datetime(2026, 11, 16, 9, tzinfo=UTC)
        )
        services.projector.catch_up()
        client = login(web_app.test_client(), "manager")
        dashboard = _dashboard_statuses(client, "2026-11")
        assert (dashboard["Revenue"], dashboard["MQLs delivered"]) == ("missed", "missed")
        report = monthly_figures(services, "2026-11", today=MONDAY.date())
        assert report.scorecard is not None
        with web_app.test_request_context(headers={"Accept-Language": "en"}):
            graded = {
                label("metric", row["metric"]): row["status"]
                for side in ("marketing", "sales")
                for row in report.scorecard[side]
            }
        assert graded == dashboard
        assert list(dashboard.values()).count("on_track") == 1  # the follow-up share: 1 of 2 in time
        # In time on the office clock (W0's November MQL was never contacted): 1 of 2.
        assert report.actuals["follow_up_within_target"] == 0.5
        # The monthly meeting of December reviews November and grades it alike.
        month, agenda = _agree(client, "?month=2026-12", "monthly")
        assert month == "2026-11" and agenda["Revenue"] == ("2026-11", "missed")
