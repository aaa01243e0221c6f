"""An event a read model cannot decode or apply is quarantined, not fatal (both
backends): the projection stops just before it and keeps its last good state, the
others go on, web writes on other leads still answer 2xx, the people who read
figures see a banner, `flask projections status` names it and `flask audit
verify` names its position. `retry` tries again after a fix, `skip` leaves it out."""

from flask import Flask

from projections.engine.projector import Projection
from smarketing.bootstrap import Services
from tests.integration.conftest import htmx
from tests.integration.forged import append_copy, sql
from tests.integration.test_report import small_history

HX = htmx("action-result")  # where the lead page's action forms aim (hx-target)


def _leads(services: Services, count: int = 2) -> list[str]:
    ids = [
        services.app.capture_lead(name=f"Ana {i}", email=f"ana{i}@example.com", source="webinar")
        for i in range(count)
    ]
    services.projector.catch_up()
    return ids


def _end(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def test_an_undecodable_event_sticks_the_read_models_and_no_write(
    services: Services, web_app: Flask, login
) -> None:
    _first, other = _leads(services)
    forged = append_copy(services, 1, same_aggregate=True)  # the first lead's sealed Captured, as v2
    manager = login(web_app.test_client(), "manager")

    # A write on another lead: stored once, confirmed, though no read model can pass the forged event.
    note = {"kind": "call", "channel": "phone", "details": "Llamada de seguimiento"}
    response = manager.post(f"/leads/{other}/interaction", data=note, headers=HX)
    assert response.status_code == 200, response.data[:300]
    assert b"Interaction recorded." in response.data
    assert _end(services) == forged + 1
    assert manager.post(f"/leads/{other}/interaction", data=note, headers=HX).status_code == 200

    stuck = services.projector.stuck()
    assert {s.position for s in stuck.values()} == {forged}
    assert set(stuck) == {p.name for p in services.projector.projections}
    assert "InvalidTag" in stuck["lead_summary"].error
    assert all(p == forged - 1 for p in services.projector.positions().values())  # the last good state

    page = manager.get("/leads/").get_data(as_text=True)
    assert f"stuck at log position {forged}" in page and "flask projections status" in page
    spanish = login(web_app.test_client(), "auditor", "es").get("/leads/").get_data(as_text=True)
    assert f"atascadas en la posición {forged}" in spanish
    marketing = login(web_app.test_client(), "marketing").get("/leads/").get_data(as_text=True)
    assert "stuck at" not in marketing  # figures' readers see it; it is theirs to escalate

    runner = web_app.test_cli_runner()
    status = runner.invoke(args=["projections", "status"])
    assert status.exit_code == 0 and f"STUCK at {forged}" in status.output
    assert status.output.count("STUCK") == len(stuck)
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 1 and f"position {forged}" in verify.output
    caught_up = runner.invoke(args=["projections", "catch-up"])
    assert caught_up.exit_code == 1 and f"lead_summary at {forged}" in caught_up.output
    count = len(services.projector.projections)
    assert f"{count} of {count} views are stuck" in page  # counted, not named

    # Skipping it (the event is a forgery): every read model goes on to the end.
    skipped = runner.invoke(args=["projections", "skip", "all"])
    assert skipped.exit_code == 0, skipped.output
    assert services.projector.stuck() == {}
    assert set(services.projector.positions().values()) == {_end(services)}


def test_corrupted_state_bytes_are_quarantined(services: Services) -> None:
    _leads(services)
    sql(services, "UPDATE stored_events SET state = :s WHERE {id} = 2", s=b"\x00not an event")
    services.app.capture_lead(name="Eva", email="eva@example.com", source="webinar")
    services.projector.reset()
    services.projector.catch_up()
    stuck = services.projector.stuck()
    assert {s.position for s in stuck.values()} == {2} and len(stuck) == len(services.projector.projections)
    assert all(p == 1 for p in services.projector.positions().values())


def _break(projection: Projection, at: int) -> None:
    """The projection fails on the event at position ``at`` (as a bug in its code would)."""
    original = projection.process

    def process(conn, events):  # type: ignore[no-untyped-def]
        if any(position == at for position, _ in events):
            raise ValueError(f"cannot apply {at}")
        original(conn, events)

    projection.process = process  # type: ignore[method-assign]


def test_a_projection_that_cannot_apply_an_event_is_stuck_alone(services: Services, make_web_app) -> None:
    _leads(services)
    bad = _end(services) + 3  # in the middle of the next batch
    for i in range(3):
        services.app.capture_lead(name=f"Eva {i}", email=f"eva{i}@example.com", source="webinar")
    broken = next(p for p in services.projector.projections if p.name == "lead_summary")
    _break(broken, at=bad)
    services.projector.catch_up()

    assert list(services.projector.stuck()) == ["lead_summary"]
    assert services.projector.stuck()["lead_summary"].error == f"ValueError: cannot apply {bad}"
    positions = services.projector.positions()
    assert positions.pop("lead_summary") == bad - 1  # the events before it are kept
    assert set(positions.values()) == {_end(services)}  # the others went on
    assert services.projector.catch_up() == 0  # passed by, not tried on every write

    # Still broken: retry sticks it again (exit 1); fixed: it catches up.
    runner = make_web_app().test_cli_runner()
    services_of_cli = runner.app.extensions["smarketing"]
    cli_broken = next(p for p in services_of_cli.projector.projections if p.name == "lead_summary")
    _break(cli_broken, at=bad)
    again = runner.invoke(args=["projections", "retry", "lead_summary"])
    assert again.exit_code == 1 and f"stuck again at position {bad}" in again.output
    del cli_broken.process  # the fix
    fixed = runner.invoke(args=["projections", "retry", "lead_summary"])
    assert fixed.exit_code == 0, fixed.output
    assert services.projector.stuck() == {}
    assert services.projector.positions()["lead_summary"] == _end(services)
    assert runner.invoke(args=["projections", "retry", "nonesuch"]).exit_code != 0


def test_no_report_is_replayed_past_an_unreadable_event(services: Services, web_app: Flask, login) -> None:
    """A replay stuck at an event would give figures that stop there under a later
    position: the PDF is refused, naming the position (CLI and web, Spanish too)."""
    small_history(services)  # March 2025
    services.projector.catch_up()
    forged = append_copy(services, 1, same_aggregate=True)
    runner = web_app.test_cli_runner()
    cli = runner.invoke(args=["report", "monthly", "2025-03", "--output", "/dev/null"])
    assert cli.exit_code != 0 and f"cannot be read at position {forged}" in cli.output
    auditor = login(web_app.test_client(), "auditor", "es")
    page = auditor.get("/reports/monthly.pdf?month=2025-03")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert f"evento ilegible en la posición {forged}" in page.get_data(as_text=True)
