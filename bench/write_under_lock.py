"""A note on a lead while another session holds the read models' tracking table
locked for 40 s (PostgreSQL: LOCK TABLE ... IN ACCESS EXCLUSIVE MODE; SQLite: the
write lock of the read models' file), with the default bounded catch-up wait
(SMARKETING_CATCH_UP_WAIT, 1.5 s).

Prints how long the write took to answer, its status, how many times the note was
stored, and how long after the lock went the read models had it.

    .venv/bin/python bench/write_under_lock.py [--hold 40] [--backend sqlite|postgres]
"""

import argparse
import sqlite3
import threading
import time

import psycopg
from common import PASSWORD, _admin, ensure_bench_user, scratch_database

from smarketing.bootstrap import init_schema
from smarketing.extensions import KEY
from smarketing.settings import Settings
from smarketing.web.core.factory import create_app

NOTE = {"kind": "call", "channel": "phone", "details": "Llamada con el cliente"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hold", type=float, default=40.0, help="seconds the lock is held")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    with scratch_database(args.backend) as url:
        try:
            run(url, args.hold)
        finally:
            if args.backend == "postgres":
                with _admin() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}_keys" WITH (FORCE)')


def run(url: str, hold: float) -> None:
    init_schema(Settings(url))
    app = create_app({"DATABASE_URL": url, "TESTING": True, "WTF_CSRF_ENABLED": False})
    svc = app.extensions[KEY]
    lead = svc.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    svc.projector.catch_up()
    client = app.test_client()
    user = ensure_bench_user(svc.write_engine)
    assert client.post("/login", data={"username": user, "password": PASSWORD}).status_code == 303

    locker = _lock_tracking(svc.settings)
    locked_at = time.perf_counter()
    released = threading.Timer(hold, locker.rollback)
    released.start()
    started = time.perf_counter()
    response = client.post(f"/leads/{lead}/interaction", data=NOTE, headers={"HX-Request": "true"})
    answered = time.perf_counter() - started
    stored = sum(type(e).__name__ == "InteractionRecorded" for e in svc.app.lead_events(lead))
    updating = "data-updating" in response.get_data(as_text=True)  # the note, in the reader's language
    print(
        f"lock held {hold:.0f} s; write answered in {answered:.2f} s, HTTP {response.status_code}, "
        f"'updating' note: {updating}, notes stored: {stored}"
    )
    released.join()
    # The page's timeline polls itself every 2 s while behind (partials/lead_timeline.html).
    polls = 0
    while "load delay" in client.get(f"/leads/{lead}/timeline", headers={"HX-Request": "true"}).get_data(
        as_text=True
    ):
        polls += 1
        time.sleep(2)
    print(
        f"the timeline showed the note {time.perf_counter() - locked_at - hold:.2f} s after the lock went "
        f"({polls} polls after it)"
    )
    locker.close()
    app.extensions["smarketing.catch_up"].close()
    svc.close()


def _lock_tracking(settings: Settings) -> psycopg.Connection | sqlite3.Connection:
    if settings.is_postgres:
        locker = psycopg.connect(settings.database_url)
        locker.execute("LOCK TABLE projection_tracking IN ACCESS EXCLUSIVE MODE")
        return locker
    lite = sqlite3.connect(settings.read_models_path(), isolation_level=None, check_same_thread=False)
    lite.execute("BEGIN IMMEDIATE")
    lite.execute("UPDATE projection_tracking SET position = position")
    return lite


if __name__ == "__main__":
    main()
