"""Targets per slice on both backends: a dashboard filtered to one source or owner
shows the slice's figures and grades them only against that slice's targets, saying
"no target for this slice" where none was set; the targets form records a slice and
its history shows it; a TargetSet stored before slices existed (v1) reads as the
whole company's."""

import re
from datetime import UTC, datetime

import time_machine
from eventsourcing.persistence import StoredEvent
from flask import Flask
from flask.testing import FlaskClient

from domain.agreement import agreement_id
from projections.models.targets import target_history, targets_for
from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn, htmx

NOW = datetime(2026, 12, 10, 10, tzinfo=UTC)
HX = htmx("agreement-body")  # where the target form aims (hx-target)


def _won(services: Services, n: int, source: str, owner: str, amount: str) -> None:
    app, at = services.app, datetime(2026, 11, 3 + n, 10, tzinfo=UTC)
    lead_id = app.capture_lead(name=f"S{n}", email=f"s{n}@example.org", source=source, occurred_at=at)
    app.assign_owner(lead_id, owner=owner, team="sales", occurred_at=at)
    app.change_stage(lead_id, to_stage="MQL", occurred_at=at)
    app.mark_won(lead_id, amount=amount, reason="Signed at once", occurred_at=at)


def _rows(client: FlaskClient, query: str) -> dict[str, tuple[str, str]]:
    """Metric -> (target shown, status class) of the dashboard's scorecard tables."""
    html = client.get(f"/?month=2026-11{query}").get_data(as_text=True)
    found = re.findall(
        r'<tr>\s*<td>([^<]+)</td>\s*<td class="num"[^>]*>([^<]*)</td>.*?<td class="status-(\w+)"[^>]*>',
        html,
        re.S,
    )
    assert found, html[:400]
    return {metric: (target, status) for metric, target, status in found}


def test_a_filtered_dashboard_grades_only_against_its_slices_targets(
    services: Services, web_app: Flask, login: LoginFn
) -> None:
    with time_machine.travel(NOW, tick=True):
        set_at = datetime(2026, 11, 1, 9, tzinfo=UTC)
        services.app.set_target("2026-11", "revenue_goal", "100000", occurred_at=set_at)
        services.app.set_target("2026-11", "mqls_delivered", "10", occurred_at=set_at)
        _won(services, 0, "webinar", "lucia", "3000")
        _won(services, 1, "events", "javier", "9000")
        client = login(web_app.test_client(), "manager")
        form = {"month": "2026-11", "metric": "revenue_goal", "value": "2500", "slice_by": "source"}
        assert client.post("/agreement/targets", data=form | {"slice_value": "Webinar"}).status_code == 303
        services.projector.catch_up()

        whole = _rows(client, "")
        assert whole["Revenue"] == ("€100,000.00", "missed")  # 12,000 of 100,000, month over
        webinar = _rows(client, "&source=webinar")
        assert webinar["Revenue"] == ("€2,500.00", "on_track")  # 3,000 of the slice's 2,500
        assert webinar["MQLs delivered"] == ("—", "no_slice_target")  # the company's 10 is not the slice's
        for query in ("&owner=lucia", "&campaign=spring", "&source=webinar&owner=lucia"):
            assert {status for _target, status in _rows(client, query).values()} == {"no_slice_target"}, query

        page = client.get("/?month=2026-11&source=events").get_data(as_text=True)
        assert "No target for this slice" in page and "Source: Events" in page
        spanish = login(web_app.test_client(), "manager", "es").get("/?month=2026-11&owner=lucia")
        assert "Sin objetivo para este filtro" in spanish.get_data(as_text=True)

        with services.read_engine.connect() as conn:
            assert targets_for(conn, "2027-01", ("source", "webinar")) == {"revenue_goal": 2500}  # carried
            assert targets_for(conn, "2026-11")["revenue_goal"] == 100000
            history = target_history(conn)
        assert [(h["slice_by"], h["slice_value"]) for h in history] == [
            ("", ""),
            ("", ""),
            ("source", "webinar"),
        ]
        agreement = client.get("/agreement/?month=2026-12").get_data(as_text=True)
        assert "Source: Webinar" in agreement and "The whole company" in agreement
        trail = login(web_app.test_client(), "auditor").get("/audit/agreement").get_data(as_text=True)
        assert "Source: webinar" in trail


def test_an_incomplete_slice_is_refused_in_the_users_language(
    services: Services, web_app: Flask, login: LoginFn
) -> None:
    client = login(web_app.test_client(), "manager", "es")
    form = {
        "month": "2026-11",
        "metric": "revenue_goal",
        "value": "2500",
        "slice_by": "owner",
        "slice_value": "",
    }
    response = client.post("/agreement/targets", data=form, headers=HX)
    assert response.status_code == 422
    assert "indica el origen o el responsable" in response.get_data(as_text=True)
    assert services.app.recorder.max_notification_id() in (0, None)


def test_a_target_stored_before_slices_reads_as_the_whole_companys(services: Services) -> None:
    app = services.app
    app.set_target("2024-03", "revenue_goal", "1000")
    agreement = app.repository.get(agreement_id())
    agreement.set_target("2024-04", "mqls_delivered", "7")
    [event] = agreement.collect_events()
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["slice_by"], state["slice_value"]  # the v1 shape
    app.recorder.insert_events(
        [
            StoredEvent(
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                app.mapper.transcoder.encode(state),
            )
        ]
    )
    replayed = app.repository.get(agreement_id())
    assert replayed.target("2024-04", "mqls_delivered") == 7
    assert [(h["slice_by"], h["month"]) for h in app.agreement_history()] == [
        ("", "2024-03"),
        ("", "2024-04"),
    ]
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert targets_for(conn, "2024-05") == {"revenue_goal": 1000, "mqls_delivered": 7}
        assert [h["slice_value"] for h in target_history(conn)] == ["", ""]
