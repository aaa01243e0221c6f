"""The key store lives apart from the event database; keys an older version kept in
the event database's ``lead_keys`` move there at ``flask db init``; the erasure ledger
and ``--reapply`` from the command line."""

import os
import stat
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from flask import Flask
from sqlalchemy import delete, inspect, select

from smarketing.audit.erasure import ledger, reapply, record_erasure
from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.store.key_store import keys_metadata, lead_keys


def test_keys_are_not_in_the_event_database(services: Services) -> None:
    lead = services.app.capture_lead(name="Ana", email="ana@example.com", source="web")
    assert not inspect(services.write_engine).has_table("lead_keys")
    with services.key_engine.connect() as conn:
        assert conn.execute(select(lead_keys.c.lead_id)).scalars().all() == [UUID(lead).hex]
    assert services.settings.key_store_url() != services.settings.database_url


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_sqlite_key_store_is_private_and_deletes_securely(services: Services) -> None:
    path = Path(services.settings.key_store_url().removeprefix("sqlite:///"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with services.key_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"


def test_keys_of_an_older_store_move_out_of_the_event_database(services: Services) -> None:
    """A store from before the key store: its keys in the event database's ``lead_keys``."""
    app = services.app
    lead = app.capture_lead(name="Zelda Quimbyworth", email="zq@example.com", source="web")
    with services.key_engine.begin() as conn:
        (key,) = conn.execute(select(lead_keys.c.key)).one()
        conn.execute(delete(lead_keys))
    keys_metadata.create_all(services.write_engine, tables=[lead_keys])
    with services.write_engine.begin() as conn:
        conn.execute(lead_keys.insert().values(lead_id=UUID(lead).hex, key=key))
    services.close()

    init_schema(services.settings)  # `flask db init` after the upgrade

    moved = bootstrap(services.settings)
    try:
        assert moved.app.get_lead(lead)["name"] == "Zelda Quimbyworth"  # opened with the moved key
        assert not inspect(moved.write_engine).has_table("lead_keys")
        with moved.key_engine.connect() as conn:
            assert bytes(conn.execute(select(lead_keys.c.key)).scalar()) == bytes(key)
        if not services.settings.is_postgres:  # nothing of the key left in the event database's files
            store = Path(services.settings.sqlite_path())
            files = [p for p in store.parent.iterdir() if p.name.startswith(store.name)]
            assert files and not any(bytes(key) in p.read_bytes() for p in files)
        init_schema(services.settings)  # again: nothing to move, nothing changes
        assert moved.app.get_lead(lead)["name"] == "Zelda Quimbyworth"
    finally:
        moved.close()


def test_the_cli_reapplies_the_ledger_and_refuses_mixed_arguments(services: Services, web_app: Flask) -> None:
    lead = services.app.capture_lead(name="Eva", email="eva@example.com", source="web")
    runner = web_app.test_cli_runner()
    assert runner.invoke(args=["audit", "erase", lead, "--reapply"]).exit_code == 2
    assert runner.invoke(args=["audit", "erase"]).exit_code == 2
    refused = runner.invoke(args=["audit", "erase", lead, "--reason", " "])
    assert refused.exit_code == 2 and ledger(services.settings) == []  # nothing recorded
    assert runner.invoke(args=["audit", "erase", lead, "--reason", "GDPR 1"]).exit_code == 0
    [entry] = ledger(services.settings)
    assert entry.lead_id == UUID(lead).hex
    again = runner.invoke(args=["audit", "erase", "--reapply"])
    assert again.exit_code == 0 and "0 erased again, 0 restored keys destroyed" in again.output


def test_reapply_reports_leads_the_restored_log_does_not_hold(services: Services) -> None:
    """A backup older than the lead's capture: nothing to erase, and it is said."""
    missing = uuid4()
    record_erasure(services.settings, missing)
    done = reapply(services)
    assert (done.erased, done.keys_destroyed, done.unknown) == ([], [], [missing.hex])
