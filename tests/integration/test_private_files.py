"""Files the app writes are its user's alone (0600, folders 0700), and uploaded rows
do not linger: an upload goes when its import finishes, anything else after a day."""

import io
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.reports.replica import open_replica
from smarketing.settings import Settings
from smarketing.web.core.factory import instance_secret
from smarketing.web.data.imports import KEEP_SECONDS

LEADS = "key,name,email,source\nk1,Ana Ruiz,ana@example.com,web\nk2,Bad Row,not-an-email,web\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask most systems start services with: files 0644 unless the app says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _companions(path: Path) -> list[Path]:
    return [p for p in (path.with_name(path.name + s) for s in ("-wal", "-shm")) if p.exists()]


def test_the_sqlite_store_is_created_private_and_an_old_one_is_narrowed(
    open_umask: None, tmp_path: Path
) -> None:
    store = tmp_path / "new" / "smarketing.sqlite3"
    settings = Settings(database_url=f"sqlite:///{store}")
    init_schema(settings)
    services = bootstrap(settings)
    try:
        services.app.capture_lead(name="Ana", email="ana@example.com", source="web")
        services.projector.catch_up()
        companions = _companions(store)
        assert companions, "WAL mode leaves -wal and -shm files beside the store"
        assert {p.name: mode(p) for p in [store, *companions]} == {
            p.name: 0o600 for p in [store, *companions]
        }
    finally:
        services.close()
    os.chmod(store, 0o644)  # as older versions left it
    bootstrap(settings).close()
    assert mode(store) == 0o600


def test_the_report_replica_is_private(open_umask: None, services: Services) -> None:
    services.app.capture_lead(name="Ana", email="ana@example.com", source="web")
    replica = open_replica(services.settings, services.app.recorder, services.app.mapper)
    try:
        replica.projector.catch_up()
        path = services.settings.report_replica_path()
        assert {p.name: mode(p) for p in [path, *_companions(path)]} == {
            p.name: 0o600 for p in [path, *_companions(path)]
        }
    finally:
        replica.close()


def test_the_session_key_and_its_folder_are_private(open_umask: None, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    key = instance_secret(instance)
    assert len(key) == 64 and mode(instance / "secret_key") == 0o600 and mode(instance) == 0o700
    os.chmod(instance / "secret_key", 0o644)
    assert instance_secret(instance) == key and mode(instance / "secret_key") == 0o600


def _upload(client, text: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        "/import/", data={"file": (io.BytesIO(text.encode()), "leads.csv"), "preset": "leads"}
    )
    assert response.status_code == 303
    return response.headers["Location"].split("/")[2]


def _run(client, upload: str) -> str:  # type: ignore[no-untyped-def]
    form = {"preset": "leads", "tz": "Europe/Madrid"} | {
        f"col_{f}": f for f in ("key", "name", "email", "source")
    }
    job_url = client.post(f"/import/{upload}/run", data=form).headers["Location"]
    for _ in range(400):
        if "every 500ms" not in client.get(job_url + "/progress").get_data(as_text=True):
            return job_url
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_uploads_are_private_and_deleted_when_the_import_finishes(
    open_umask: None, services: Services, web_app: Flask, login, tmp_path: Path
) -> None:
    web_app.instance_path = str(tmp_path / "instance")
    folder = tmp_path / "instance" / "imports"
    client = login(web_app.test_client(), "manager")
    upload = _upload(client, LEADS)
    assert mode(folder) == 0o700 and mode(folder / f"{upload}.csv") == 0o600
    job_url = _run(client, upload)
    # Nothing of the rows stays on disk: the rejected rows are kept with the job and
    # written only into the download.
    assert list(folder.iterdir()) == []
    assert client.get(job_url + "/rejects.csv").status_code == 200
    assert client.get(f"/import/{upload}/mapping").status_code == 404


def test_anything_left_in_the_folder_goes_after_a_day(
    services: Services, web_app: Flask, login, tmp_path: Path
) -> None:
    web_app.instance_path = str(tmp_path / "instance")
    folder = tmp_path / "instance" / "imports"
    client = login(web_app.test_client(), "manager")
    abandoned, recent = _upload(client, LEADS), _upload(client, LEADS)
    now = time.time()
    os.utime(folder / f"{abandoned}.csv", (now - KEEP_SECONDS - 60, now - KEEP_SECONDS - 60))
    os.utime(folder / f"{recent}.csv", (now - KEEP_SECONDS + 600, now - KEEP_SECONDS + 600))
    assert client.get("/import/").status_code == 200
    assert not (folder / f"{abandoned}.csv").exists() and (folder / f"{recent}.csv").exists()
    assert client.get(f"/import/{abandoned}/mapping").status_code == 404
