"""The scorecard's "followed up in time" runs on the agreement's clock, the same
deadline as the breach count and the overdue list (domain.business_hours)."""

from datetime import UTC, date, datetime

from domain.business_hours import ALWAYS
from projections.cached.scorecard_view import scorecard
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.bootstrap import Services
from smarketing.service.sla_terms import sla_in_force
from tests.office_hours import MADRID_OFFICE


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _share(card: dict) -> object:
    rows = [
        row for side in ("marketing", "sales") for row in card[side] if row["metric"] == "follow_up_share"
    ]
    assert len(rows) == 1
    return rows[0]["actual"]


def test_friday_evening_mql_called_monday_morning_is_in_time_on_business_hours(services: Services) -> None:
    app = services.app
    app.set_terms("calendar", MADRID_OFFICE, "Sales works office hours")
    app.set_target("2024-06", "follow_up_hours", "4")
    lead_id = app.capture_lead(
        name="Fri", email="fri@example.org", source="webinar", occurred_at=at("2024-06-07T10:00")
    )
    # Friday 19:00 Madrid, after closing: the 4 business hours run Monday 09:00-13:00 Madrid.
    app.change_stage(lead_id, to_stage="MQL", occurred_at=at("2024-06-07T17:00"))
    # Monday 09:30 Madrid: 62.5 elapsed hours later, half an hour into the business clock.
    app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=at("2024-06-10T07:30"))
    # A control MQL on a Tuesday morning, called within the hour: in time on both clocks.
    other = app.capture_lead(
        name="Tue", email="tue@example.org", source="webinar", occurred_at=at("2024-06-11T07:00")
    )
    app.change_stage(other, to_stage="MQL", occurred_at=at("2024-06-11T08:00"))
    app.log_contact_attempt(other, channel="phone", outcome="no_answer", occurred_at=at("2024-06-11T08:30"))
    services.projector.catch_up()
    now = at("2024-07-02T12:00")
    with services.read_engine.connect() as conn:
        office = sla_in_force(conn, now, services.settings.tz).calendar
        assert not office.every_hour_counts

        business = scorecard(conn, "2024-06", today=date(2024, 7, 2), now=now, calendar=office)
        elapsed = scorecard(conn, "2024-06", today=date(2024, 7, 2), now=now, calendar=ALWAYS)
        assert _share(business) == 1  # both in time
        assert _share(elapsed) == 0.5  # the Friday MQL is late by elapsed hours
        assert (business["breaches"], elapsed["breaches"]) == (0, 1)  # the same clock as the share

        office_actuals = scorecard_actuals(conn, "2024-06", follow_up_hours=4, calendar=office)
        plain_actuals = scorecard_actuals(conn, "2024-06", follow_up_hours=4)
        assert office_actuals["follow_up_within_target"] == 1
        assert plain_actuals["follow_up_within_target"] == 0.5
        # The delays themselves are elapsed hours on either clock.
        assert (
            office_actuals["follow_up_delays_hours"] == plain_actuals["follow_up_delays_hours"] == [0.5, 62.5]
        )
