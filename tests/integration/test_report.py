"""The monthly PDF report: figures replayed from the log equal the live read
models and hand-computed values, are stable for a month until that month's
history changes, and bad requests fail with a readable message."""

import http.server
import io
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from domain.agreement import add_months
from projections.queries.funnel_query import funnel, funnel_breakdown
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.audit.chain import seal_month
from smarketing.bootstrap import Services
from smarketing.cli.demo_data import demo_leads
from smarketing.extensions import KEY
from smarketing.reports import pdf as report_pdf
from smarketing.reports.replay import ReportError, monthly_figures
from smarketing.reports.sections import band_counts
from smarketing.service import users
from smarketing.web.core.factory import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MONTH = "2025-03"  # the small fixed history's month: always in the past


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    config = {
        "DATABASE_URL": services.settings.database_url,
        "REPORT_REPLICA": services.settings.report_replica,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
    }
    app = create_app(config)
    yield app
    app.extensions[KEY].close()


def manager_client(app: Flask, services: Services) -> FlaskClient:
    """A browser logged in as a manager (reports need the report.read permission)."""
    users.create_user(
        services.write_engine,
        actor="test",
        username="boss",
        role="manager",
        password="correct horse battery staple",
    )
    client = app.test_client()
    response = client.post("/login", data={"username": "boss", "password": "correct horse battery staple"})
    assert response.status_code == 303, response.data[:300]
    return client


def render(app: Flask, services: Services, month: str, lang: str = "en", position: int | None = None) -> str:
    with app.app_context():
        data = report_pdf.render_monthly_pdf(services, month, lang, log_position=position)
    return pdf_text(data)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def at(day: int, hour: float) -> datetime:
    return datetime(2025, 3, day, tzinfo=UTC) + timedelta(hours=hour)


def small_history(svc: Services) -> dict[str, str]:
    """Four leads in March 2025 whose figures are easy to work out by hand."""
    app = svc.app
    a = app.capture_lead(
        name="Ana Ruiz",
        email="ana@example.com",
        company="Acme",
        source="paid_search",
        campaign="google-ads-crm",
        occurred_at=at(3, 9),
    )
    app.change_stage(a, to_stage="MQL", occurred_at=at(4, 9))
    app.assign_owner(a, owner="rep.one", team="sales", occurred_at=at(4, 9))
    app.log_contact_attempt(a, channel="phone", outcome="connected", occurred_at=at(4, 9.05))  # 3 min
    app.change_stage(a, to_stage="SQL", occurred_at=at(6, 9))
    app.change_stage(a, to_stage="Opportunity", occurred_at=at(10, 9))
    app.mark_won(a, amount="5000", currency="EUR", occurred_at=at(20, 9))
    b = app.capture_lead(
        name="Bea Gil",
        email="bea@example.com",
        company="Beta",
        source="email",
        campaign="newsletter",
        occurred_at=at(5, 9),
    )
    app.change_stage(b, to_stage="MQL", occurred_at=at(5, 10))
    app.assign_owner(b, owner="rep.two", team="sales", occurred_at=at(5, 10))
    app.log_contact_attempt(b, channel="email", outcome="no_answer", occurred_at=at(5, 12))  # 2 h
    app.reject_mql(b, reason="No budget", occurred_at=at(7, 9))
    app.capture_lead(
        name="Carl Vidal", email="carl@example.com", company="Gamma", source="social", occurred_at=at(8, 9)
    )
    d = app.capture_lead(
        name="Dan Sol", email="dan@example.com", company="Delta", source="outbound", occurred_at=at(9, 9)
    )
    app.assign_owner(d, owner="rep.one", team="sales", occurred_at=at(9, 10))
    app.change_stage(d, to_stage="SQL", reason="Direct need", occurred_at=at(9, 10))
    app.mark_lost(d, reason="Price", occurred_at=at(25, 9))
    return {"a": a, "b": b, "d": d}


def test_small_history_matches_hand_computed_figures(services: Services, app: Flask) -> None:
    small_history(services)
    figures = monthly_figures(services, MONTH)
    assert [s["count"] for s in figures.funnel["stages"]] == [4, 3, 2, 1, 1]
    assert figures.funnel["lead_to_customer"] == 0.25
    assert [(b["band"], b["count"]) for b in figures.follow_up["bands"]] == [
        ("0-5m", 1),
        ("5-60m", 0),
        ("1-24h", 1),
        (">24h", 0),
    ]
    assert figures.follow_up["median_hours"] == pytest.approx((0.05 + 2) / 2)
    # A, B and Dan, whose stated skip Lead -> SQL reached MQL at once: the funnel's 3 MQLs.
    assert figures.actuals["mqls"] == 3 and figures.actuals["won"] == 1 and figures.actuals["lost"] == 1
    assert [(r["name"], r["reason"]) for r in figures.rejected["items"]] == [("Bea Gil", "No budget")]
    assert [(w["name"], w["company"], str(w["amount"])) for w in figures.deals["won"]] == [
        ("Ana Ruiz", "Acme", "5000.00")
    ]
    lost = [(w["name"], w["reason"], w["owner"]) for w in figures.deals["lost"]]
    assert lost == [("Dan Sol", "Price", "rep.one")]
    kinds = [item["kind"] for item in figures.discuss]
    assert "top_rejection" in kinds and "drop_off" in kinds
    # Every event but the four e-mail index entries, which carry no business time.
    assert figures.events_in_month == services.app.recorder.max_notification_id() - 4

    text = render(app, services, MONTH)
    assert "March 2025" in text and figures.digest in text
    assert "€5,000.00" in text and "No budget" in text and "Price" in text
    assert re.search(r"Lead\s+4\b", text) and re.search(r"Customer\s+1\s+100\.0%", text)
    spanish = render(app, services, MONTH, lang="es")
    assert "marzo 2025" in spanish.lower() and "5000,00" in spanish.replace("\xa0", "").replace(".", "")


def test_replayed_figures_equal_live_projections_on_demo_data(services: Services, app: Flask) -> None:
    now = datetime.now(UTC)
    month = add_months(now.astimezone(services.settings.tz).strftime("%Y-%m"), -1)
    services.app.capture_many(demo_leads(month, now, services.settings.tz))
    services.projector.catch_up()
    figures = monthly_figures(services, month)
    with services.read_engine.connect() as conn:
        live = funnel(conn, month)
        actuals = scorecard_actuals(conn, month)
        assert figures.breakdowns["owner"] == funnel_breakdown(conn, "owner", month)
        assert figures.breakdowns["source"] == funnel_breakdown(conn, "source", month)
    assert figures.funnel["stages"] == live["stages"]
    assert figures.funnel["median_days_in_stage"] == pytest.approx(live["median_days_in_stage"])
    for key in ("leads", "mqls", "won", "lost", "rejected", "revenue", "attempts_per_mql"):
        assert figures.actuals[key] == actuals[key], key
    assert figures.follow_up["bands"] == band_counts(actuals["follow_up_delays_hours"])

    text = render(app, services, month)
    for stage in live["stages"]:
        assert re.search(rf"{stage['stage']}\s+{stage['count']:,}\b", text), stage
    assert f"€{actuals['revenue'].value:,.2f}" in text
    assert f"Won ({actuals['won']})" in text and f"Lost ({actuals['lost']})" in text
    _save_pngs(app, services, month)


def _save_pngs(app: Flask, services: Services, month: str) -> None:
    """Pages as images in test-artifacts/, for a person to look at."""
    if not shutil.which("pdftoppm"):
        return
    ARTIFACTS.mkdir(exist_ok=True)
    backend = "pg" if services.settings.is_postgres else "sqlite"
    for lang in ("en", "es"):
        with app.app_context():
            data = report_pdf.render_monthly_pdf(services, month, lang)
        target = ARTIFACTS / f"report-{backend}-{lang}.pdf"
        for stale in ARTIFACTS.glob(f"report-{backend}-{lang}-*.png"):
            stale.unlink()
        target.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(target), str(target.with_suffix(""))], check=True)
    assert list(ARTIFACTS.glob(f"report-{backend}-en-*.png"))


def test_later_events_keep_figures_and_backdated_ones_change_them(services: Services, app: Flask) -> None:
    small_history(services)
    first = monthly_figures(services, MONTH)
    services.app.capture_lead(
        name="Eva Later",
        email="eva@example.com",
        source="social",
        occurred_at=datetime(2025, 5, 2, 9, tzinfo=UTC),
    )
    later = monthly_figures(services, MONTH)
    assert later.log_position > first.log_position
    assert (later.digest, later.funnel, later.deals) == (first.digest, first.funnel, first.deals)

    services.app.capture_lead(
        name="Fede Backdated", email="fede@example.com", source="social", occurred_at=at(15, 9)
    )
    changed = monthly_figures(services, MONTH)
    assert changed.digest != first.digest
    assert changed.funnel["stages"][0]["count"] == first.funnel["stages"][0]["count"] + 1
    text = render(app, services, MONTH)
    assert changed.digest in text and f"Log position {changed.log_position}" in text

    # An auditor holding the old position regenerates the old report exactly.
    again = monthly_figures(services, MONTH, log_position=first.log_position)
    assert (again.digest, again.funnel) == (first.digest, first.funnel)


def test_month_without_data_gives_a_valid_pdf_saying_so(services: Services, app: Flask) -> None:
    small_history(services)
    text = render(app, services, "2024-07")
    assert "No activity was recorded for this month" in text
    assert monthly_figures(services, "2024-07").has_data is False


def test_pdf_is_cached_per_month_position_and_language(services: Services, app: Flask) -> None:
    small_history(services)
    with app.app_context():
        first = report_pdf.render_monthly_pdf(services, MONTH, "en")
        assert report_pdf.render_monthly_pdf(services, MONTH, "en") is first
        assert report_pdf.render_monthly_pdf(services, MONTH, "es") is not first


@pytest.mark.parametrize("month", ["2025-13", "March", "", "2025-3-1", "9999-01"])
def test_bad_or_future_month_is_refused_everywhere(services: Services, app: Flask, month: str) -> None:
    with pytest.raises(ReportError):
        monthly_figures(services, month)
    result = app.test_cli_runner().invoke(args=["report", "monthly", month, "-o", "/dev/null"])
    assert result.exit_code != 0 and "Error:" in result.output and "Traceback" not in result.output
    client = manager_client(app, services)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the refusal is in the reader's language
    response = client.get("/reports/monthly.pdf", query_string={"month": month, "lang": "en"})
    assert response.status_code == 400
    assert b"YYYY-MM" in response.data or b"has not started yet" in response.data


def test_cli_writes_the_pdf(services: Services, app: Flask, tmp_path: Path) -> None:
    small_history(services)
    target = tmp_path / "report.pdf"
    args = ["report", "monthly", MONTH, "-o", str(target), "--lang", "en"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Ana Ruiz" in pdf_text(target.read_bytes())
    beyond = app.test_cli_runner().invoke(args=["report", "monthly", MONTH, "--position", "99999"])
    assert beyond.exit_code != 0 and "does not exist" in beyond.output


def test_web_page_and_download(services: Services, app: Flask) -> None:
    small_history(services)
    assert app.test_client().get("/reports/monthly.pdf?month=2025-03").status_code in (302, 303, 401, 403)
    client = manager_client(app, services)
    page = client.get("/reports/")
    assert page.status_code == 200 and b'type="month"' in page.data
    response = client.get("/reports/monthly.pdf", query_string={"month": MONTH, "lang": "es"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Bea Gil" in pdf_text(response.data)


def test_pdf_never_fetches_external_urls() -> None:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        html = f'<link rel="stylesheet" href="{url}/x.css"><img src="{url}/a.png"><p>hi</p>'
        assert pdf_text(report_pdf.pdf_from_html(html)).strip() == "hi"
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []


def test_the_month_end_seal_is_printed_once_taken(app: Flask, services: Services) -> None:
    services.app.capture_lead(name="Ana", email="seal@example.com", source="web")
    services.projector.catch_up()
    month = datetime.now(services.settings.tz).strftime("%Y-%m")
    assert "Not sealed yet" in render(app, services, month)
    # Sealing as if the month were over: the seal is the chain digest at its last event.
    seal = seal_month(services, month, now=datetime.now(UTC) + timedelta(days=40))
    text = render(app, services, month)
    assert f"position {seal.position}" in text and seal.digest[:20] in text.replace("\n", "")
