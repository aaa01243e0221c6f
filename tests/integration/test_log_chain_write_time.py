"""Each event is chained in the transaction that stores it (both backends): a row
put in the log any other way is a break at its position, `flask audit verify` only
reads, anchors prove the log still extends an earlier head, and an older store is
chained once on `flask db init`."""

import json
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag
from eventsourcing.persistence import Notification
from flask import Flask
from sqlalchemy import inspect, text

from smarketing.audit.chain import UNLINKED, verify
from smarketing.bootstrap import Services, init_schema
from smarketing.store.log_chain import GENESIS, events_source, link, links, stored_rows
from smarketing.store.sqlite_recorder import LeanSQLiteRecorder
from tests.integration.forged import append_copy as _append
from tests.integration.forged import sql as _sql
from tests.integration.stored_rows import stored_events


def _history(services: Services, leads: int = 3, who: str = "ana") -> list[str]:
    ids = []
    for i in range(leads):
        lead = services.app.capture_lead(name=f"{who} {i}", email=f"{who}{i}@example.com", source="webinar")
        services.app.change_stage(lead, to_stage="MQL")
        ids.append(lead)
    return ids


def _last(services: Services) -> int:
    return services.app.recorder.max_notification_id()


def _dump(services: Services) -> dict[str, list]:
    """Every row of every table of the database, in a stable order."""
    with services.write_engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(text(f'SELECT * FROM "{name}"')))
            for name in names
        }


def test_every_saved_event_has_its_link(services: Services) -> None:
    _history(services)
    services.app.recorder.insert_events(stored_events(uuid4(), range(1, 41)))  # a batch: the other path
    with services.read_engine.connect() as conn:
        chain = conn.execute(text("SELECT position FROM log_chain ORDER BY position")).scalars().all()
        events = [
            row[0] for row in stored_rows(conn, events_source(services.app.recorder, conn.dialect.name))
        ]
    assert chain == events and len(events) > 40
    result = verify(services)
    assert result.intact and result.position == _last(services)


def test_a_forged_append_is_a_break_and_stays_one(services: Services) -> None:
    _history(services)
    forged = _append(services, 1)
    result = verify(services)
    assert (result.intact, result.broken_at, result.template) == (False, forged, UNLINKED)
    assert result.position == forged - 1
    services.app.capture_lead(name="Bea", email="bea@example.com", source="webinar")  # later saves
    assert _last(services) > forged
    assert verify(services).broken_at == forged  # never chain it after the fact


TAMPERING: dict[str, Callable[[Services], int]] = {
    "forged append": lambda s: _append(s, 1),
    "changed byte": lambda s: (
        _sql(s, "UPDATE stored_events SET state = :b WHERE {id} = 4", b=_flip(s, 4)),
        4,
    )[1],
    "deletion": lambda s: (_sql(s, "DELETE FROM stored_events WHERE {id} = 5"), 5)[1],
    "swap": lambda s: (_swap(s, 2, 6), 2)[1],
    "insertion": lambda s: _insert_between(s),
}


def _flip(services: Services, position: int) -> bytes:
    [(state,)] = _sql(services, "SELECT state FROM stored_events WHERE {id} = :n", n=position)
    changed = bytearray(state)
    changed[len(changed) // 2] ^= 0x01
    return bytes(changed)


def _swap(services: Services, a: int, b: int) -> None:
    rows = {
        n: (t, bytes(s))
        for n, t, s in _sql(
            services, "SELECT {id}, topic, state FROM stored_events WHERE {id} IN (:a, :b)", a=a, b=b
        )
    }
    for target, source in ((a, b), (b, a)):
        topic, state = rows[source]
        _sql(
            services,
            "UPDATE stored_events SET topic = :t, state = :s WHERE {id} = :n",
            t=topic,
            s=state,
            n=target,
        )


def _insert_between(services: Services) -> int:
    """A row put between two stored events, at a free position inside the log."""
    _sql(services, "DELETE FROM stored_events WHERE {id} = 3")
    _sql(services, "DELETE FROM log_chain WHERE position = 3")  # a free position, chain and log agreeing
    _sql(
        services,
        "INSERT INTO stored_events ({id}, originator_id, originator_version, topic, state) "
        "SELECT 3, :o, 1, topic, state FROM stored_events WHERE {id} = 1",
        o=uuid4() if services.settings.is_postgres else uuid4().hex,
    )
    return 3


@pytest.mark.parametrize("tampering", TAMPERING)
def test_cli_verify_fails_at_the_first_bad_position(services: Services, make_web_app, tampering: str) -> None:
    _history(services)
    runner = make_web_app().test_cli_runner()
    untouched = runner.invoke(args=["audit", "verify"])
    assert untouched.exit_code == 0, untouched.output
    position = TAMPERING[tampering](services)
    before = _dump(services)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1, broken.output
    assert f"broken at position {position}:" in broken.output
    assert _dump(services) == before  # verify changed nothing, broken or not


def test_verify_writes_nothing(services: Services, make_web_app) -> None:
    _history(services)
    services.app.capture_lead(name="Sin proyectar", email="np@example.com", source="webinar")  # not caught up
    before = _dump(services)
    data_version = None
    if not services.settings.is_postgres:
        import sqlite3

        watcher = sqlite3.connect(services.settings.sqlite_path())
        data_version = watcher.execute("PRAGMA data_version").fetchone()
    result = make_web_app().test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert _dump(services) == before
    if data_version is not None:
        # SQLite counts commits by other connections: none happened.
        assert watcher.execute("PRAGMA data_version").fetchone() == data_version
        watcher.close()


def test_an_undecodable_appended_event_is_named_without_a_traceback(services: Services, make_web_app) -> None:
    """A copy of an event with sealed personal data as its lead's next version: its
    seal no longer opens (the version is in its associated data); verify hashes bytes
    and names its position."""
    _history(services)
    forged = _append(services, 1, same_aggregate=True)  # position 1: a lead's Captured, sealed
    with pytest.raises(InvalidTag):
        services.app.mapper.to_domain_event(services.app.recorder.select_notifications(forged, 1)[0])
    result = make_web_app().test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"position {forged}" in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


def test_cli_verify_speaks_the_configured_language(services: Services, make_web_app) -> None:
    _history(services)
    runner = make_web_app(BABEL_DEFAULT_LOCALE="es").test_cli_runner()
    assert "Registro íntegro hasta la posición 9" in runner.invoke(args=["audit", "verify"]).output
    forged = _append(services, 1)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"Registro roto en la posición {forged}" in broken.output and "sin eslabón" in broken.output


def test_the_verify_page_names_the_break_in_spanish(services: Services, web_app: Flask, login) -> None:
    _history(services)
    forged = _append(services, 1)
    client = login(web_app.test_client(), "auditor", lang="es")
    page = client.get("/audit/verify").get_data(as_text=True)
    assert f"posición {forged}" in page and "sin eslabón" in page


# --- anchors ----------------------------------------------------------------


def _rewrite_consistently(services: Services, position: int) -> None:
    """What the chain alone cannot catch: change an event and recompute every link
    from there on (someone able to write both tables)."""
    _sql(
        services,
        "UPDATE stored_events SET state = :b WHERE {id} = :n",
        b=_flip(services, position),
        n=position,
    )
    with services.write_engine.begin() as conn:
        source = events_source(services.app.recorder, conn.dialect.name)
        rows = list(stored_rows(conn, source))
        conn.execute(text("DELETE FROM log_chain"))
        for pos, digest, originator, version in links(GENESIS, rows):
            conn.execute(
                text("INSERT INTO log_chain VALUES (:p, :d, :o, :v)"),
                {"p": pos, "d": digest, "o": originator, "v": version},
            )


def test_an_anchor_proves_the_log_still_extends_it(services: Services, make_web_app, tmp_path: Path) -> None:
    _history(services)
    runner = make_web_app().test_cli_runner()
    anchor = tmp_path / "anchor.json"
    written = runner.invoke(args=["audit", "anchor", "--output", str(anchor)])
    assert written.exit_code == 0, written.output
    document = json.loads(anchor.read_text())
    assert document["position"] == 9 and document["format"] == "smarketing-log-anchor/1"
    with services.read_engine.connect() as conn:
        assert (
            conn.execute(text("SELECT digest FROM log_chain WHERE position = 9")).scalar()
            == document["digest"]
        )
    printed = runner.invoke(args=["audit", "anchor"])
    assert json.loads(printed.output)["digest"] == document["digest"]

    _history(services, leads=1, who="bea")  # the log grows: it still extends the anchor
    grown = runner.invoke(args=["audit", "verify", "--against", str(anchor)])
    assert grown.exit_code == 0 and "anchored head at position 9" in grown.output

    _rewrite_consistently(services, 2)
    assert verify(services).intact  # the chain alone is fooled
    rewritten = runner.invoke(args=["audit", "verify", "--against", str(anchor)])
    assert rewritten.exit_code == 1 and "position 9" in rewritten.output and "rewritten" in rewritten.output


def test_an_anchor_past_a_truncated_log_fails(services: Services, make_web_app, tmp_path: Path) -> None:
    _history(services)
    runner = make_web_app().test_cli_runner()
    anchor = tmp_path / "anchor.json"
    assert runner.invoke(args=["audit", "anchor", "-o", str(anchor)]).exit_code == 0
    _sql(services, "DELETE FROM stored_events WHERE {id} > 4")
    _sql(services, "DELETE FROM log_chain WHERE position > 4")
    assert verify(services).intact
    truncated = runner.invoke(args=["audit", "verify", "--against", str(anchor)])
    assert truncated.exit_code == 1 and "anchored position 9 is no longer in the log" in truncated.output


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: {**d, "digest": "0" * 64},  # signature no longer matches
        lambda d: {**d, "position": "six"},
        lambda d: {k: v for k, v in d.items() if k != "signature"},
    ],
)
def test_an_edited_or_invalid_anchor_is_refused(
    services: Services, make_web_app, tmp_path: Path, edit
) -> None:
    _history(services, leads=1)
    runner = make_web_app().test_cli_runner()
    anchor = tmp_path / "anchor.json"
    assert runner.invoke(args=["audit", "anchor", "-o", str(anchor)]).exit_code == 0
    anchor.write_text(json.dumps(edit(json.loads(anchor.read_text()))))
    refused = runner.invoke(args=["audit", "verify", "--against", str(anchor)])
    assert refused.exit_code == 2 and refused.output.startswith("Error: ")
    anchor.write_text("not json")
    assert runner.invoke(args=["audit", "verify", "--against", str(anchor)]).exit_code == 2


# --- the once-only migration ------------------------------------------------


def _as_before_the_upgrade(services: Services, chained_up_to: int) -> None:
    """A store from the projection days: links up to the projection's position only."""
    _sql(services, "DELETE FROM log_chain WHERE position > :n", n=chained_up_to)
    _sql(services, "DROP TABLE log_chain_start")


def test_db_init_chains_an_older_store_once(services: Services) -> None:
    _history(services)
    _as_before_the_upgrade(services, chained_up_to=2)
    assert verify(services).broken_at == 3  # not chained yet
    init_schema(services.settings)
    result = verify(services)
    assert result.intact and result.position == 9
    forged = _append(services, 1)
    init_schema(services.settings)  # later set-ups never chain a row they find
    assert verify(services).broken_at == forged


def test_db_init_chains_a_store_that_never_had_a_chain(services: Services) -> None:
    _history(services)
    _as_before_the_upgrade(services, chained_up_to=0)
    init_schema(services.settings)
    assert verify(services).intact and verify(services).position == 9


def test_the_chain_matches_python_links(services: Services) -> None:
    """Links computed by the database (PostgreSQL's save) equal smarketing.store.log_chain.link."""
    _history(services, leads=2)
    with services.read_engine.connect() as conn:
        rows = list(stored_rows(conn, events_source(services.app.recorder, conn.dialect.name)))
        stored = conn.execute(text("SELECT position, digest FROM log_chain ORDER BY position")).all()
    previous, expected = GENESIS, []
    for position, originator, version, topic, state in rows:
        n = Notification(
            id=position, originator_id=originator, originator_version=version, topic=topic, state=state
        )
        previous = link(previous, n)
        expected.append((position, previous.hex()))
    assert [tuple(r) for r in stored] == expected


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_library_save_path_chains_too(services: Services) -> None:
    """A recorder subclass that hooks the library's ``_insert_events`` takes the
    library's save path: its events are chained as well (SQLite's fallback; on
    PostgreSQL such a hook takes the pipelined path, the batches' covered above)."""

    class Hooked(LeanSQLiteRecorder):
        def _insert_events(self, c, stored_events, **kwargs):  # type: ignore[no-untyped-def]
            return super()._insert_events(c, stored_events, **kwargs)

    recorder = services.app.recorder
    hooked = Hooked(recorder.datastore, events_table_name=recorder.events_table_name)
    _history(services, leads=1)
    hooked.insert_events(stored_events(uuid4(), range(1, 4)))
    recorder.insert_events(stored_events(uuid4(), range(1, 2)))
    result = verify(services)
    assert result.intact and result.position == _last(services) == 7
