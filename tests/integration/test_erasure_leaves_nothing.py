"""Erasure that leaves nothing: after it, the bytes of every file the installation keeps
(SQLite store and its WAL, the key store, the report's copy; on PostgreSQL a dump of
the event database and the key store's table file) hold none of the person's name,
e-mail, phone, reason text, nor the deleted key. Figures stay as they were. A copy of
the files taken before the erasure, restored, is erased again by ``--reapply``."""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest
from flask import Flask
from sqlalchemy import select, text

from projections.queries.funnel_query import funnel
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.audit.chain import verify
from smarketing.audit.erasure import ledger, reapply
from smarketing.bootstrap import Services, bootstrap
from smarketing.extensions import KEY
from smarketing.store.key_store import lead_keys

NAME, EMAIL, PHONE = "Zelda Quimbyworth", "zelda.quimbyworth@example.com", "+34 611 222 333"
REASON = "Zelda Quimbyworth signed"
SECRETS = [NAME.encode(), b"Quimbyworth", EMAIL.encode(), PHONE.encode(), REASON.encode()]


def _history(services: Services) -> str:
    app = services.app
    lead = app.capture_lead(name=NAME, email=EMAIL, phone=PHONE, company="Acme", source="webinar")
    app.record_interaction(lead, kind="call", details=f"Spoke with {NAME}")
    app.change_stage(lead, to_stage="SQL", reason=f"{NAME} asked for a demo")
    app.mark_won(lead, amount="1200.50", reason=REASON)
    other = app.capture_lead(name="Bea Gil", email="bea@example.com", source="web")
    app.change_stage(other, to_stage="MQL")
    services.projector.catch_up()
    return lead


def _figures(services: Services, lead: str) -> tuple:
    month = services.app.get_lead(lead)["captured_at"].strftime("%Y-%m")
    with services.read_engine.connect() as conn:
        return funnel(conn), scorecard_actuals(conn, month)


def _key(services: Services, lead: str) -> bytes:
    with services.key_engine.connect() as conn:
        return bytes(
            conn.execute(select(lead_keys.c.key).where(lead_keys.c.lead_id == UUID(lead).hex)).scalar()
        )


def _found(blobs: dict[str, bytes], secrets: list[bytes]) -> list[tuple[str, bytes]]:
    return [(name, s) for name, blob in blobs.items() for s in secrets if s in blob]


def _sqlite_files(folder: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in folder.iterdir() if ".sqlite3" in p.name}
    assert any(name.endswith(".keys.sqlite3") for name in files) and "smarketing.sqlite3" in files
    return files


def _erase_from_the_cli(web_app: Flask, lead: str) -> None:
    result = web_app.test_cli_runner().invoke(args=["audit", "erase", lead, "--reason", "GDPR request 7"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_files_hold_nothing_of_an_erased_person(
    services: Services, make_web_app: Callable[..., Flask], tmp_path: Path
) -> None:
    web_app = make_web_app()
    lead = _history(services)
    key = _key(services, lead)
    before = _figures(services, lead)
    folder = Path(services.settings.sqlite_path()).parent
    assert _found(_sqlite_files(folder), [NAME.encode()])  # the read models show it: the grep sees it
    # a copy of the files before the erasure, as a backup would hold them
    backup = tmp_path / "backup"
    backup.mkdir()
    for path in folder.iterdir():
        if ".sqlite3" in path.name:
            shutil.copy2(path, backup / path.name)

    _erase_from_the_cli(web_app, lead)
    assert _found(_sqlite_files(folder), [*SECRETS, key]) == []
    assert _figures(services, lead) == before
    assert verify(services).intact
    assert [e.lead_id for e in ledger(services.settings)] == [UUID(lead).hex]
    services.close()
    web_app.extensions[KEY].close()  # processes stopped for the restore

    # Restore the older copy: the person is back, until the ledger is reapplied.
    for path in folder.iterdir():
        if ".sqlite3" in path.name:
            path.unlink()
    for path in backup.iterdir():
        shutil.copy2(path, folder / path.name)
    restored = bootstrap(services.settings)
    try:
        assert restored.app.get_lead(lead)["name"] == NAME
        result = make_web_app().test_cli_runner().invoke(args=["audit", "erase", "--reapply"])
        assert result.exit_code == 0, result.output
        assert restored.app.get_lead(lead)["name"] == ""
        assert _found(_sqlite_files(folder), [*SECRETS, key]) == []
        assert _figures(restored, lead) == before
        assert verify(restored).intact
        again = reapply(restored)  # idempotent: nothing left to do
        assert (again.erased, again.keys_destroyed, again.unknown) == ([], [], [])
    finally:
        restored.close()


def _pg_data_file(services: Services) -> Path | None:
    """The key table's heap file, when the server's data directory is readable here."""
    with services.key_engine.connect() as conn:
        directory = conn.execute(text("SHOW data_directory")).scalar()
        relative = conn.execute(text("SELECT pg_relation_filepath('lead_keys')")).scalar()
    path = Path(directory) / relative
    try:
        path.read_bytes()
    except OSError:
        return None
    return path


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_dump_and_key_files_hold_nothing_of_an_erased_person(
    services: Services, web_app: Flask
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not found (Debian package postgresql-client)")
    lead = _history(services)
    key = _key(services, lead)
    before = _figures(services, lead)
    with services.key_engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))  # the key is in the table's file now
    heap = _pg_data_file(services)
    if heap is not None:
        assert key in heap.read_bytes()  # what the grep below would find without VACUUM FULL

    _erase_from_the_cli(web_app, lead)
    with services.key_engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    dump = subprocess.run(
        ["pg_dump", "--no-owner", services.settings.database_url], capture_output=True, check=True
    ).stdout
    assert b"lead_summary" in dump  # a real dump
    keys_dump = subprocess.run(
        ["pg_dump", services.settings.key_store_url()], capture_output=True, check=True
    ).stdout
    blobs = {"pg_dump events": dump, "pg_dump keys": keys_dump}
    replica = services.settings.report_replica_path()  # the report's private SQLite copy
    blobs |= {p.name: p.read_bytes() for p in replica.parent.glob(replica.name + "*")}
    assert replica.name in blobs
    heap = _pg_data_file(services)
    if heap is not None:
        blobs["lead_keys heap"] = heap.read_bytes()
    assert _found(blobs, [*SECRETS, key]) == []
    assert _figures(services, lead) == before
    assert verify(services).intact
    assert reapply(services).keys_destroyed == []  # nothing was brought back


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_restored_postgres_backup_is_erased_again(
    services: Services, make_web_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """Both databases dumped before the erasure, restored after it, then ``--reapply``."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not found (Debian package postgresql-client)")
    web_app = make_web_app()
    lead = _history(services)
    key = _key(services, lead)
    before = _figures(services, lead)
    urls = {"events": services.settings.database_url, "keys": services.settings.key_store_url()}
    for name, url in urls.items():
        subprocess.run(["pg_dump", "-Fc", "-f", str(tmp_path / name), url], check=True)
    _erase_from_the_cli(web_app, lead)
    services.close()
    web_app.extensions[KEY].close()  # processes stopped for the restore

    for name, url in urls.items():
        subprocess.run(["pg_restore", "--clean", "--if-exists", "-d", url, str(tmp_path / name)], check=True)
    restored = bootstrap(services.settings)
    try:
        assert restored.app.get_lead(lead)["name"] == NAME  # the person is back
        result = make_web_app().test_cli_runner().invoke(args=["audit", "erase", "--reapply"])
        assert result.exit_code == 0 and "1 erased again" in result.output, result.output
        assert restored.app.get_lead(lead)["name"] == ""
        dumps = {
            name: subprocess.run(["pg_dump", url], capture_output=True, check=True).stdout
            for name, url in urls.items()
        }
        assert _found(dumps, [*SECRETS, key]) == []
        assert _figures(restored, lead) == before
        assert verify(restored).intact
        again = reapply(restored)
        assert (again.erased, again.keys_destroyed, again.unknown) == ([], [], [])
    finally:
        restored.close()
