"""The dashboard's month: opening on a month without data (the current one, after
importing only past history) says so and links to the latest month with data."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from projections.queries import data_months
from smarketing.bootstrap import Services

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _past_history(services: Services) -> None:
    """A lead captured in September, won in October: nothing in December."""
    app = services.app
    lead = app.capture_lead(
        name="Past",
        email="past@example.com",
        source="webinar",
        occurred_at=datetime(2026, 9, 10, 9, tzinfo=UTC),
    )
    app.change_stage(lead, to_stage="MQL", occurred_at=datetime(2026, 9, 11, 9, tzinfo=UTC))
    app.mark_won(lead, amount="1000", reason="signed", occurred_at=datetime(2026, 10, 20, 9, tzinfo=UTC))
    services.projector.catch_up()


def test_months_with_data(frozen: None, services: Services) -> None:
    with services.read_engine.connect() as conn:
        assert data_months.latest_month_with_data(conn) is None
        assert not data_months.month_has_data(conn, "2026-12")
    _past_history(services)
    with services.read_engine.connect() as conn:
        assert data_months.month_has_data(conn, "2026-09") and data_months.month_has_data(conn, "2026-10")
        assert not data_months.month_has_data(conn, "2026-11")
        assert data_months.latest_month_with_data(conn, "2026-12") == "2026-10"  # the win's month
        assert data_months.latest_month_with_data(conn, "2026-09") == "2026-09"


def test_empty_current_month_links_to_the_latest_with_data(
    frozen: None, services: Services, web_app: Flask, login: Callable[..., FlaskClient]
) -> None:
    client = login(web_app.test_client(), "manager")
    page = client.get("/").get_data(as_text=True)
    # nothing anywhere yet
    assert "December 2026 has no data yet." in page and "the latest month with data" not in page
    _past_history(services)
    page = client.get("/").get_data(as_text=True)
    assert 'id="dashboard-empty-month"' in page and "December 2026 has no data yet." in page
    assert 'href="/?month=2026-10"' in page and "See October 2026, the latest month with data." in page
    october = client.get("/?month=2026-10").get_data(as_text=True)
    assert 'id="dashboard-empty-month"' not in october and "<option selected>2026-10</option>" in october
    filtered = client.get("/?source=webinar").get_data(as_text=True)
    assert 'href="/?month=2026-10&amp;source=webinar"' in filtered
    # The htmx fragment (a filter or month change) carries the note too.
    fragment = client.get("/?month=2026-11", headers={"HX-Request": "true", "HX-Target": "dashboard-panels"})
    assert "November 2026 has no data yet." in fragment.get_data(as_text=True)
    services.app.capture_lead(name="Now", email="now@example.com", source="webinar")
    services.projector.catch_up()
    assert 'id="dashboard-empty-month"' not in client.get("/").get_data(as_text=True)


def test_in_spanish(
    frozen: None, services: Services, web_app: Flask, login: Callable[..., FlaskClient]
) -> None:
    _past_history(services)
    page = login(web_app.test_client(), "manager", "es").get("/").get_data(as_text=True)
    assert "Aún no hay datos de diciembre de 2026." in page and "el último mes con datos" in page
