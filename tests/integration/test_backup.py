"""Backups taken while leads are being captured, restored, on both backends.

The restored store must open, pass `flask audit verify`, and hold a prefix of the live
log: every event up to its newest one, each exactly as stored (a lead's capture and
its e-mail index, saved in one transaction, both or neither), and its read models,
caught up, equal to a rebuild from its log.
"""

import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from projections.engine.schema import metadata
from projections.queries import funnel_query
from smarketing.bootstrap import Services, bootstrap
from smarketing.cli.backup import BackupError, read_manifest, restore_backup
from smarketing.extensions import KEY
from smarketing.settings import Settings
from smarketing.web.core.factory import create_app
from tests.conftest import drop_postgres_database, postgres_database
from tests.integration.stored_rows import count_leads

LEADS_BEFORE = 30  # captured before the backup starts, so it has something to copy


def _app(settings: Settings) -> Flask:
    return create_app(
        {
            "DATABASE_URL": settings.database_url,
            "REPORT_REPLICA": settings.report_replica,
            "TESTING": True,
            "LOGIN_DISABLED": True,
        }
    )


def _cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


class Writer(threading.Thread):
    """Another process's writes: leads captured (a stage change for every third one) and
    the read models caught up now and then, until told to stop."""

    def __init__(self, services: Services) -> None:
        super().__init__(daemon=True)
        self.services, self.saved = services, 0
        self.stop, self.started_enough = threading.Event(), threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                n = self.saved
                lead_id = self.services.app.capture_lead(
                    name=f"Lead {n}", email=f"lead{n}@example.com", source="web"
                )
                if n % 3 == 0:
                    self.services.app.change_stage(lead_id, to_stage="MQL")
                if n % 10 == 0:
                    self.services.projector.catch_up()
                self.saved += 1
                if self.saved >= LEADS_BEFORE:
                    self.started_enough.set()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.failure = error
            self.started_enough.set()


@pytest.fixture
def restored_settings(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty place for the restore: another file, or another database."""
    if not settings.is_postgres:
        yield Settings(database_url=f"sqlite:///{tmp_path / 'restored' / 'smarketing.sqlite3'}")
        return
    url = postgres_database()
    try:
        yield Settings(database_url=url, report_replica=str(tmp_path / "restored-replica.sqlite3"))
    finally:
        drop_postgres_database(url)


def _rows(services: Services) -> list[tuple[Any, ...]]:
    notifications = services.app.recorder.select_notifications(start=1, limit=10**7)
    return [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state)) for n in notifications]


def _read_models(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    with services.read_engine.connect() as conn:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
            for table in metadata.sorted_tables
        }


def _figures(services: Services) -> dict[str, Any]:
    with services.read_engine.connect() as conn:
        return {"leads": count_leads(conn), "funnel": funnel_query.funnel(conn)}


def test_backup_while_writing_restores_a_whole_prefix_that_verifies(
    services: Services, second: Services, restored_settings: Settings, tmp_path: Path
) -> None:
    if services.settings.is_postgres and not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL backups need pg_dump: install Debian's 'postgresql-client' package")
    live = _app(services.settings)
    writer = Writer(second)
    writer.start()
    try:
        assert writer.started_enough.wait(60) and writer.failure is None, writer.failure
        backup = tmp_path / "backup.tar"
        for _attempt in range(20):  # until a write lands while the backup runs (a small store copies fast)
            before = services.app.recorder.max_notification_id()
            created = _cli(live, "backup", "create", str(backup))
            after = services.app.recorder.max_notification_id()
            if created.exit_code or after > before:
                break
        written_after = writer.saved
        while writer.saved < written_after + 5 and writer.failure is None:
            writer.stop.wait(0.01)  # a few more writes after the backup, which it must not hold
    finally:
        writer.stop.set()
        writer.join(60)
        live.extensions[KEY].close()
    assert writer.failure is None, writer.failure
    assert created.exit_code == 0, created.output
    assert after > before, "no write landed while the backup ran"

    target = _app(restored_settings)
    try:
        restored = _cli(target, "backup", "restore", str(backup))
        assert restored.exit_code == 0, restored.output
        assert "flask audit erase --reapply" in restored.output
        verified = _cli(target, "audit", "verify")
        assert verified.exit_code == 0, verified.output
    finally:
        target.extensions[KEY].close()

    copy = bootstrap(restored_settings)
    try:
        rows, live_rows = _rows(copy), _rows(services)
        newest = rows[-1][0]
        assert before <= newest < live_rows[-1][0]
        assert rows == [row for row in live_rows if row[0] <= newest]  # a prefix, byte for byte
        manifest = read_manifest(backup)
        if not restored_settings.is_postgres:
            assert manifest.members[0].log_position == newest
        # Whole transactions only: every captured lead has its e-mail index, and loads.
        leads = {row[1] for row in rows if row[3].endswith("Lead.Captured")}
        indexed = {copy.app.lead_id_for_email(f"lead{n}@example.com") for n in range(len(leads))}
        assert {str(lead_id) for lead_id in leads} == indexed
        copy.projector.catch_up()  # from the read models' positions in the backup
        caught_up, figures = _read_models(copy), _figures(copy)
        assert figures["leads"] == len(leads)
        copy.projector.rebuild()
        assert _read_models(copy) == caught_up
        assert _figures(copy) == figures
    finally:
        copy.close()


def test_restore_refuses_a_store_that_holds_data_and_a_damaged_backup(
    services: Services, restored_settings: Settings, tmp_path: Path
) -> None:
    if services.settings.is_postgres and not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL backups need pg_dump: install Debian's 'postgresql-client' package")
    services.app.capture_lead(name="Ana", email="ana@example.com", source="web")
    live = _app(services.settings)
    backup = tmp_path / "backup.tar"
    try:
        assert _cli(live, "backup", "create", str(backup)).exit_code == 0
        refused = _cli(live, "backup", "restore", str(backup))  # onto the live store itself
        assert refused.exit_code == 1 and "Traceback" not in refused.output
        assert "--replace" in refused.output or "empty database" in refused.output
    finally:
        live.extensions[KEY].close()
    with tarfile.open(backup) as archive:
        store = archive.getmember(read_manifest(backup).members[0].member)
    data = bytearray(backup.read_bytes())
    data[store.offset_data + store.size // 2] ^= 0xFF  # one byte in the store's copy
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        restore_backup(restored_settings, damaged)


def test_restore_with_replace_sets_the_newer_store_aside(services: Services, tmp_path: Path) -> None:
    if services.settings.is_postgres and not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL backups need pg_dump: install Debian's 'postgresql-client' package")
    services.app.capture_lead(name="Ana", email="ana@example.com", source="web")
    live = _app(services.settings)
    backup = tmp_path / "backup.tar"
    try:
        assert _cli(live, "backup", "create", str(backup)).exit_code == 0
        services.app.capture_lead(name="Bea", email="bea@example.com", source="web")  # after the backup
        restored = _cli(live, "backup", "restore", str(backup), "--replace")
        assert restored.exit_code == 0, restored.output
        assert _cli(live, "audit", "verify").exit_code == 0
    finally:
        live.extensions[KEY].close()
    back = bootstrap(services.settings)
    try:
        assert back.app.lead_id_for_email("ana@example.com") is not None
        assert back.app.lead_id_for_email("bea@example.com") is None
    finally:
        back.close()
    if not services.settings.is_postgres:
        store = Path(services.settings.sqlite_path())
        kept = list(store.parent.glob(store.name + ".before-restore-*"))
        assert kept and not any(path.name.endswith(".restoring") for path in store.parent.iterdir())
