"""The log chain catches tampering done directly in SQL, on both backends, and
points at the right position; seals and recorded-time search work on it.
(Forged appends, anchors and write-time chaining: test_log_chain_write_time.py.)"""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from flask import Flask
from sqlalchemy import text

from smarketing.audit.chain import SealError, position_at, seal_for, seal_month, verify
from smarketing.bootstrap import Services


def _id(services: Services) -> str:
    return "notification_id" if services.settings.is_postgres else "rowid"


def _sql(services: Services, statement: str, **params: object) -> list:
    # The library names the table: stored_events on SQLite, smarketing_events on PostgreSQL.
    table = services.app.recorder.events_table_name
    statement = statement.replace("{id}", _id(services)).replace("stored_events", table)
    with services.write_engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else []


def _history(services: Services, leads: int = 3) -> list[str]:
    ids = []
    for i in range(leads):
        lead = services.app.capture_lead(name=f"Ana {i}", email=f"ana{i}@example.com", source="webinar")
        services.app.change_stage(lead, to_stage="MQL")
        ids.append(lead)
    services.projector.catch_up()
    return ids


def _gap_to(services: Services, position: int) -> None:
    """The next saves get ids past ``position``: a row stands there (delete it after)."""
    _sql(
        services,
        "INSERT INTO stored_events ({id}, originator_id, originator_version, topic, state) "
        "VALUES (:n, :o, 1, 'gap:Filler', :s)",
        n=position,
        o=uuid4() if services.settings.is_postgres else uuid4().hex,
        s=b"{}",
    )
    if services.settings.is_postgres:
        _sql(
            services,
            "SELECT setval(pg_get_serial_sequence('stored_events', 'notification_id'), :n)",
            n=position,
        )


def _max(services: Services) -> int:
    return services.app.recorder.max_notification_id()


def test_an_untouched_log_is_intact(services: Services) -> None:
    _history(services)
    result = verify(services)
    assert result.intact, result.message
    assert result.position == result.checked == _max(services) == 9


def test_a_new_event_is_chained_with_its_save(services: Services) -> None:
    # Was "pending until chained" while the chain was a projection: now no catch-up is needed.
    lead = _history(services)[0]
    services.app.record_interaction(lead, kind="call")
    result = verify(services)
    assert result.intact and result.position == 10


def test_a_changed_field_is_caught_at_its_position(services: Services) -> None:
    _history(services)
    [(state,)] = _sql(services, "SELECT state FROM stored_events WHERE {id} = 4")
    forged = bytes(state).replace(b'"webinar"', b'"forged!"')
    assert forged != bytes(state)
    _sql(services, "UPDATE stored_events SET state = :s WHERE {id} = 4", s=forged)
    result = verify(services)
    assert not result.intact
    assert result.broken_at == 4 and result.position == 3
    assert "changed content" in result.problem


def test_a_deleted_event_is_caught(services: Services) -> None:
    _history(services)
    _sql(services, "DELETE FROM stored_events WHERE {id} = 5")
    result = verify(services)
    assert (result.intact, result.broken_at) == (False, 5)
    assert "missing event" in result.problem


def test_a_deleted_last_event_is_caught(services: Services) -> None:
    _history(services)
    _sql(services, "DELETE FROM stored_events WHERE {id} = 9")
    result = verify(services)
    assert (result.intact, result.broken_at) == (False, 9)


def test_reordered_events_are_caught(services: Services) -> None:
    _history(services)
    rows = dict(
        (n, (t, bytes(s)))
        for n, t, s in _sql(services, "SELECT {id}, topic, state FROM stored_events WHERE {id} IN (2, 6)")
    )
    for target, source in ((2, 6), (6, 2)):
        topic, state = rows[source]
        swap = "UPDATE stored_events SET topic = :t, state = :s WHERE {id} = :n"
        _sql(services, swap, t=topic, s=state, n=target)
    result = verify(services)
    assert (result.intact, result.broken_at) == (False, 2)
    assert "reordered" in result.problem and "position 6" in result.problem


def test_a_forged_row_in_a_gap_is_caught(services: Services) -> None:
    services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    # PostgreSQL leaves gaps in notification ids (failed inserts); make one on both backends:
    # ids jump past a row that is then removed (the chain holds positions, gaps and all).
    _gap_to(services, 100)
    lead = services.app.capture_lead(name="Ana 0", email="ana0@example.com", source="webinar")
    services.app.change_stage(lead, to_stage="MQL")
    _sql(services, "DELETE FROM stored_events WHERE {id} = 100")
    chained = _max(services)
    [(topic, state)] = _sql(services, "SELECT topic, state FROM stored_events WHERE {id} = 1")
    forged_id = uuid4() if services.settings.is_postgres else uuid4().hex
    _sql(
        services,
        "INSERT INTO stored_events ({id}, originator_id, originator_version, topic, state) "
        "VALUES (50, :o, 1, :t, :s)",
        o=forged_id,
        t=topic,
        s=bytes(state),
    )
    result = verify(services)
    assert (result.intact, result.broken_at) == (False, 50)
    assert "unexpected extra event" in result.problem
    assert chained > 50


def test_a_rewritten_chain_row_is_caught(services: Services) -> None:
    _history(services)
    _sql(services, "UPDATE log_chain SET digest = :d WHERE position = 7", d="0" * 64)
    result = verify(services)
    assert (result.intact, result.broken_at) == (False, 7)


def test_a_rebuild_cannot_launder_tampering(services: Services) -> None:
    # The chain is no read model any more: a rebuild never recomputes it.
    _history(services)
    services.projector.rebuild()
    assert verify(services).intact
    [(state,)] = _sql(services, "SELECT state FROM stored_events WHERE {id} = 1")
    _sql(services, "UPDATE stored_events SET state = :s WHERE {id} = 1", s=bytes(state) + b" ")
    services.projector.rebuild()
    assert (verify(services).intact, verify(services).broken_at) == (False, 1)


def test_position_at_finds_the_last_event_recorded_by_then(services: Services) -> None:
    _history(services)
    notes = services.app.recorder.select_notifications(start=1, limit=100)
    stamps = [services.app.mapper.to_domain_event(n).timestamp for n in notes]
    assert position_at(services, stamps[0] - timedelta(seconds=1)) == 0
    for n, stamp in zip(notes, stamps, strict=True):
        assert position_at(services, stamp) == n.id
    assert position_at(services, datetime.now(UTC) + timedelta(days=1)) == _max(services)


def test_seal_a_month_and_check_it(services: Services) -> None:
    _history(services)
    month = datetime.now(services.settings.tz).strftime("%Y-%m")
    with pytest.raises(SealError):
        seal_month(services, month)  # not over yet
    later = datetime.now(UTC) + timedelta(days=40)
    seal = seal_month(services, month, now=later)
    assert seal.position == _max(services)
    assert seal_month(services, month, now=later) == seal  # idempotent
    with services.read_engine.connect() as conn:
        assert seal_for(conn, month) == seal
        assert seal_for(conn, "1999-01") is None
    result = verify(services)
    assert result.intact and result.seals_checked == 1
    _sql(services, "UPDATE audit_seals SET digest = :d", d="f" * 64)
    assert not verify(services).intact


def test_cli_verify_exit_codes(services: Services, make_web_app) -> None:
    _history(services)
    app: Flask = make_web_app()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact up to position 9" in ok.output
    _sql(services, "DELETE FROM stored_events WHERE {id} = 3")
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and "position 3" in bad.output
