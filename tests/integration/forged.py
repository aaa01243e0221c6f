"""Rows put in the log with SQL, as a forger (or a broken tool) would: for the tests
of the log chain and of the read models' quarantine."""

from uuid import uuid4

from sqlalchemy import text

from smarketing.bootstrap import Services
from smarketing.store.log_chain import events_source


def sql(services: Services, statement: str, **params: object) -> list:
    """``stored_events`` and ``{id}`` name the backend's events table and position column."""
    table, id_column = events_source(services.app.recorder, services.write_engine.dialect.name)
    statement = statement.replace("{id}", id_column).replace("stored_events", table)
    with services.write_engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else []


def append_copy(services: Services, source_position: int, *, same_aggregate: bool = False) -> int:
    """Append, with SQL, a copy of the event at ``source_position`` (as a forger would):
    under a new aggregate id, or as its own aggregate's next version; its position.

    A copy of a sealed event as its lead's next version cannot be decoded: the version
    is in the seal's associated data, so the seal no longer opens (InvalidTag)."""
    [(originator, topic, state)] = sql(
        services, "SELECT originator_id, topic, state FROM stored_events WHERE {id} = :n", n=source_position
    )
    version = 1
    if same_aggregate:
        version += sql(
            services,
            "SELECT MAX(originator_version) FROM stored_events WHERE originator_id = :o",
            o=originator,
        )[0][0]
    else:
        originator = uuid4() if services.settings.is_postgres else uuid4().hex
    sql(
        services,
        "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (:o, :v, :t, :s)",
        o=originator,
        v=version,
        t=topic,
        s=bytes(state),
    )
    return services.app.recorder.max_notification_id()
