"""Erasing a lead leaves nothing of the person in its tasks either: a task's title,
completion note and cancellation reason are sealed under the task's own key, and the
erasure destroys those keys (and blanks the tasks read model's titles), on both
backends and again by ``--reapply`` after a restore."""

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from projections.models.tasks import lead_tasks
from smarketing.audit.erasure import reapply
from smarketing.bootstrap import Services, bootstrap
from smarketing.extensions import KEY
from smarketing.service import daily_loop
from smarketing.store.key_store import lead_keys
from tests.integration.conftest import do_login
from tests.integration.test_erasure_leaves_nothing import _erase_from_the_cli, _figures, _found, _sqlite_files

NAME = "Ursula Pemberwick"
SECRETS = [NAME.encode(), b"Pemberwick"]
DUE = datetime(2030, 1, 2, 10, 0, tzinfo=UTC)  # a fixed date: "upcoming" whatever the clock


def _lead_with_tasks(services: Services) -> str:
    app = services.app
    lead = str(app.capture_lead(name=NAME, email="u.p@example.com", company="Acme", source="webinar"))
    app.change_stage(lead, to_stage="MQL")
    daily_loop.create_task(services, lead, title=f"Llamar a {NAME}", assignee="test-sales", due_at=DUE)
    done = daily_loop.create_task(services, lead, title="Enviar propuesta", assignee="test-sales", due_at=DUE)
    daily_loop.change_task(services, done, "complete", f"{NAME} pidió la propuesta por correo")
    dropped = daily_loop.create_task(services, lead, title="Recordatorio", assignee="test-sales", due_at=DUE)
    daily_loop.change_task(services, dropped, "cancel", f"{NAME} está de vacaciones")
    services.projector.catch_up()
    return lead


def _task_keys(services: Services, lead: str) -> int:
    """How many of the lead's tasks still have a key."""
    with services.read_engine.connect() as conn:
        tasks = list(
            conn.execute(
                select(lead_tasks.c.task_id).where(lead_tasks.c.lead_id == lead.replace("-", ""))
            ).scalars()
        )
    assert len(tasks) == 3
    with services.key_engine.connect() as conn:
        return len(list(conn.execute(select(lead_keys.c.lead_id).where(lead_keys.c.lead_id.in_(tasks)))))


def _mis_tareas(web_app: Flask) -> str:
    client = do_login(web_app.test_client(), "sales", "es")
    return client.get("/tasks/").get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_files_and_mis_tareas_hold_nothing_of_an_erased_persons_tasks(
    services: Services, make_web_app: Callable[..., Flask], tmp_path: Path
) -> None:
    web_app = make_web_app()
    lead = _lead_with_tasks(services)
    before = _figures(services, lead)
    folder = Path(services.settings.sqlite_path()).parent
    assert NAME in _mis_tareas(web_app)  # the open task's title names the person
    backup = tmp_path / "backup"
    backup.mkdir()
    for path in folder.iterdir():
        if ".sqlite3" in path.name:
            shutil.copy2(path, backup / path.name)

    assert _task_keys(services, lead) == 3
    _erase_from_the_cli(web_app, lead)
    assert _task_keys(services, lead) == 0
    assert _found(_sqlite_files(folder), SECRETS) == []
    assert NAME not in _mis_tareas(web_app) and "Pemberwick" not in _mis_tareas(web_app)
    assert _figures(services, lead) == before
    services.close()
    web_app.extensions[KEY].close()  # processes stopped for the restore

    # A copy from before the erasure, restored: the tasks' keys are back until --reapply.
    for path in folder.iterdir():
        if ".sqlite3" in path.name:
            path.unlink()
    for path in backup.iterdir():
        shutil.copy2(path, folder / path.name)
    restored = bootstrap(services.settings)
    try:
        assert _task_keys(restored, lead) == 3  # the restored key store has them again
        result = make_web_app().test_cli_runner().invoke(args=["audit", "erase", "--reapply"])
        assert result.exit_code == 0, result.output
        assert _task_keys(restored, lead) == 0
        assert _found(_sqlite_files(folder), SECRETS) == []
        assert _figures(restored, lead) == before
        again = reapply(restored)
        assert (again.erased, again.keys_destroyed, again.unknown) == ([], [], [])
    finally:
        restored.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_dump_and_mis_tareas_hold_nothing_of_an_erased_persons_tasks(
    services: Services, web_app: Flask
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not found (Debian package postgresql-client)")
    lead = _lead_with_tasks(services)
    before = _figures(services, lead)
    assert NAME in _mis_tareas(web_app)
    assert _task_keys(services, lead) == 3
    _erase_from_the_cli(web_app, lead)
    assert _task_keys(services, lead) == 0
    dump = subprocess.run(
        ["pg_dump", "--no-owner", services.settings.database_url], capture_output=True, check=True
    ).stdout
    assert b"lead_tasks" in dump  # a real dump, with the tasks read model
    keys_dump = subprocess.run(
        ["pg_dump", services.settings.key_store_url()], capture_output=True, check=True
    ).stdout
    assert _found({"pg_dump events": dump, "pg_dump keys": keys_dump}, SECRETS) == []
    assert NAME not in _mis_tareas(web_app)
    assert _figures(services, lead) == before
    assert reapply(services).keys_destroyed == []  # nothing was brought back
