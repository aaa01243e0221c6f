"""Imports that must not go wrong quietly: quotes read strictly (a broken row is a
rejected row, never swallowed), files over the size limit refused before they are read,
one huge line refused without holding it, and a store that cannot be written answered
with a message and an exit code, not a traceback."""

import io
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import Result
from flask import Flask

from smarketing.bootstrap import Services
from smarketing.extensions import KEY
from smarketing.importing.parse import ImportFileError, read_csv, read_csv_text
from smarketing.settings import Settings
from smarketing.web.core.factory import create_app

HEADER = "key,name,email,source,captured_at\n"
OPEN_QUOTE = (
    HEADER + 'k1,"Ana Ruiz,ana@example.com,web,2025-03-03\n' + "k2,Bea Gil,bea@example.com,web,2025-03-04\n"
)


def _app(settings: Settings) -> Flask:
    config = {"TESTING": True, "LOGIN_DISABLED": True, "WTF_CSRF_ENABLED": False}
    return create_app({"DATABASE_URL": settings.database_url} | config)


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    app = _app(services.settings)
    yield app
    app.extensions[KEY].close()


def _cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def test_an_unclosed_quote_rejects_its_row_and_the_next_row_is_read() -> None:
    data = read_csv_text(OPEN_QUOTE)
    assert [number for number, _ in data.rows] == [3]
    assert data.rows[0][1]["name"] == "Bea Gil"
    assert [(e.row, e.column) for e in data.errors] == [(2, "")]
    assert "never closed" in data.errors[0].reason
    assert data.errors[0].values["key"] == "k1"  # the row as it was, for the rejects file
    assert data.total == 2


def test_text_after_a_closing_quote_rejects_that_row_alone() -> None:
    text = HEADER + 'k1,"Ana" Ruiz,ana@example.com,web,2025-03-03\nk2,Bea,bea@example.com,web,2025-03-04\n'
    data = read_csv_text(text)
    assert [number for number, _ in data.rows] == [3]
    assert [e.row for e in data.errors] == [2] and "quotes do not pair up" in data.errors[0].reason


def test_quoted_cells_with_commas_quotes_and_line_breaks_still_read() -> None:
    text = HEADER + 'k1,"Ruiz, Ana ""la jefa""",ana@example.com,web,2025-03-03\n'
    text += 'k2,"Bea\nGil",b@example.com,,\n'
    data = read_csv_text(text)
    assert not data.errors
    assert [row["name"] for _, row in data.rows] == ['Ruiz, Ana "la jefa"', "Bea\nGil"]


def test_cli_import_with_an_unclosed_quote_reports_the_rejected_row(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(OPEN_QUOTE, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = _cli(app, "import", "leads", str(path), "--lang", "en", "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert "Imported 1 of 2 rows" in result.output and "rejected 1" in result.output
    assert "row 2, column -: a quote opened in this row is never closed" in result.output
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("row,column,reason,key") and lines[1].startswith("2,,a quote opened")
    assert services.app.lead_id_for_email("bea@example.com") is not None


def test_cli_refuses_a_file_over_the_limit_before_reading_it(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARKETING_IMPORT_MAX_MB", "0.001")  # about 1 KB
    path = tmp_path / "leads.csv"
    path.write_text(HEADER + "k1,Ana,ana@example.com,web,2025-03-03\n" * 40, encoding="utf-8")
    result = _cli(app, "import", "leads", str(path), "--lang", "es")
    assert result.exit_code == 2
    assert "una importación admite como máximo 0,001 MB" in result.output
    assert "Traceback" not in result.output


def test_web_upload_over_the_limit_is_413_in_the_readers_language(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARKETING_IMPORT_MAX_MB", "0.1")
    app = _app(services.settings)  # the request limit is read when the app is made
    try:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
        uploads = Path(app.instance_path) / "imports"
        kept = len(list(uploads.glob("*.csv")))
        limit = 1024 * 1024 // 10
        row = "k1,Ana,ana@example.com,web,2025-03-03\n"
        for size in (limit + 1024, limit * 3):  # just over the file's limit; over the request's
            body = (HEADER + row * (size // len(row))).encode()
            form = {"file": (io.BytesIO(body), "leads.csv"), "preset": "leads"}
            response = client.post("/import/", data=form)
            page = response.get_data(as_text=True)
            assert response.status_code == 413, page[:300]
            assert "una importación admite como máximo 0,1 MB" in page
        assert len(list(uploads.glob("*.csv"))) == kept  # a refused upload leaves no file behind
    finally:
        app.extensions[KEY].close()


MEMORY_PROBE = textwrap.dedent(
    """
    import sys, time
    from smarketing.importing.parse import ImportFileError, read_csv

    def high_water():  # peak resident memory since the last reset (Linux: VmHWM)
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM"))

    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak to what is resident now
    before = high_water()
    started = time.perf_counter()
    try:
        read_csv(sys.argv[1])
    except ImportFileError as error:
        print(type(error).__name__, str(error))
    peak = high_water()
    print(peak - before, time.perf_counter() - started, peak)
    """
)


@pytest.mark.parametrize("cap_mb", ["64", "200"])
def test_a_100_mb_line_is_refused_without_holding_it(tmp_path: Path, cap_mb: str) -> None:
    """64 (the default): refused by its size, unread; 200: read up to the line limit only."""
    path = tmp_path / "huge.csv"
    size = 100 * 2**20
    with path.open("w", encoding="utf-8") as file:
        file.write(HEADER + "k1,")
        chunk = "x" * 2**20  # written a MiB at a time: the test itself stays small too
        for _ in range(100):
            file.write(chunk)
    env = {"SMARKETING_IMPORT_MAX_MB": cap_mb, "PATH": "/usr/bin:/bin"}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(path)], capture_output=True, text=True, cwd=root, env=env
    )
    assert done.returncode == 0, done.stderr
    refusal, figures = done.stdout.strip().splitlines()
    grown, seconds, peak = (float(figure) for figure in figures.split())
    mib = 2**20
    print(f"cap {cap_mb} MB: {refusal}; {seconds:.3f}s; peak RSS {peak / mib:.1f} MiB (+{grown / mib:.1f})")
    assert refusal.startswith("FileTooLarge" if cap_mb == "64" else "ImportFileError")
    assert grown < size / 20  # a small fraction of the file: it was never held whole


def test_read_csv_refuses_a_line_over_the_line_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARKETING_IMPORT_MAX_LINE_KB", "1")
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "k1," + "x" * 2000 + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="Line 2 is longer than 1024 characters"):
        read_csv(path)


@pytest.fixture
def unwritable(services: Services) -> Iterator[Flask]:
    """An app on a store that refuses writes: a read-only PostgreSQL database, or an SQLite
    file whose write lock another process holds (the app waits its 30 s busy timeout:
    these tests are slow on SQLite)."""
    settings = services.settings
    holder = None
    if settings.is_postgres:
        name = settings.database_url.rsplit("/", 1)[1]
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    else:
        holder = sqlite3.connect(settings.sqlite_path(), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    app = _app(settings)
    try:
        yield app
    finally:
        app.extensions[KEY].close()
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()


@pytest.mark.slow
def test_cli_import_into_a_store_that_cannot_be_written_exits_3_without_traceback(
    unwritable: Flask, services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(HEADER + "k1,Ana,ana@example.com,web,2025-03-03\n", encoding="utf-8")
    result = _cli(unwritable, "import", "leads", str(path), "--lang", "es")
    assert result.exit_code == 3, result.output
    assert "Ahora no se puede escribir en la base de datos" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert services.app.lead_id_for_email("ana@example.com") is None


@pytest.mark.slow
def test_web_import_into_a_store_that_cannot_be_written_says_so_in_the_readers_language(
    unwritable: Flask,
) -> None:
    client = unwritable.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    body = (HEADER + "k1,Ana,ana@example.com,web,2025-03-03\n").encode()
    uploaded = client.post("/import/", data={"file": (io.BytesIO(body), "leads.csv"), "preset": "leads"})
    upload = uploaded.headers["Location"].split("/")[2]
    form = {"preset": "leads", "tz": "Europe/Madrid"} | {f"col_{f}": f for f in HEADER.strip().split(",")}
    job_url = client.post(f"/import/{upload}/run", data=form).headers["Location"]
    for _ in range(900):  # past SQLite's 30 s busy timeout
        page = client.get(job_url + "/progress").get_data(as_text=True)
        if "every 500ms" not in page:
            break
        time.sleep(0.05)
    assert "Ahora no se puede escribir en la base de datos" in page, page


def test_a_file_imported_in_batches_is_checked_as_one_file(
    app: Flask, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held a batch at a time (here 4 rows), the file still reads as one: repeats across
    batches are refused, rows keep their numbers, a broken row is rejected where it is."""
    monkeypatch.setattr("smarketing.importing.cli.BATCH_ROWS", 4)
    rows = [f"k{n},Lead {n},lead{n}@example.com,web,2025-03-03\n" for n in range(10)]
    rows[6] = "k1,Again,again@example.com,web,2025-03-03\n"  # k1 is in the first batch
    rows[8] = 'k8,"Open,open@example.com,web,2025-03-03\n'
    path = tmp_path / "leads.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = _cli(app, "import", "leads", str(path), "--lang", "en", "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert "Imported 8 of 10 rows" in result.output and "rejected 2" in result.output
    assert "row 8, column key: 'k1' already appears in row 3" in result.output
    assert "row 10, column -: a quote opened in this row is never closed" in result.output
    assert services.app.lead_id_for_email("lead9@example.com") is not None  # after the broken row
    assert [line.split(",")[0] for line in rejects.read_text().splitlines()[1:]] == ["8", "10"]
