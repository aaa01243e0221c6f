"""Monthly PDF on the generated 1M-event stores (bench/generate.py): the first
download with a cold report replica (built from position 0), the first download
with a warm replica after N new events, the HTML + WeasyPrint render per page,
and the cached second download through the web app.

    cd bench && ../.venv/bin/python pdf.py [--month 2026-10] [--new-events 1000] [--database-url URL ...]

The store is never written: SQLite stores are copied to bench/out/ (PostgreSQL
ones cloned with CREATE DATABASE ... TEMPLATE) and the copy gets the new events;
the replica is a scratch file in bench/out/, removed at the end.
"""

import argparse
import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse, urlunparse
from uuid import uuid4

from common import OUT, PASSWORD, _admin, big_databases, ensure_bench_user, machine, stats_ms  # type: ignore[import-not-found]

from domain.actor import current_actor
from domain.lead import Lead
from smarketing.cli import demo_data as demo
from smarketing.extensions import KEY
from smarketing.reports import pdf as pdf_module
from smarketing.reports.replay import monthly_figures
from smarketing.reports.replica import open_replica
from smarketing.web.core.factory import create_app

TODAY = date(2026, 11, 26)  # the generated history ends here
NOW = datetime(2026, 11, 26, 18, tzinfo=UTC)


@contextmanager
def store_copy(url: str) -> Iterator[str]:
    """A throw-away copy of the store at ``url`` (the bench appends events to it)."""
    name = f"pdf_copy_{uuid4().hex[:8]}"
    if url.startswith("sqlite"):
        target = OUT / f"{name}.sqlite3"
        source = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(source + suffix):
                shutil.copyfile(source + suffix, f"{target}{suffix}")
        try:
            yield f"sqlite:///{target}"
        finally:
            for leftover in OUT.glob(f"{name}.sqlite3*"):
                leftover.unlink()
        return
    template = urlparse(url).path.lstrip("/")
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield urlunparse(urlparse(url)._replace(path=f"/{name}"))
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_leads(month: str, seed: int) -> Iterator[Lead]:
    """Leads captured in ``month`` (recorded now, so backdated) with a demo history each."""
    rng = random.Random(seed)
    start = datetime.fromisoformat(month + "-01").replace(tzinfo=UTC)
    while True:
        source = rng.choice([s for s, _ in demo.SOURCES])
        token = current_actor.set("bench")
        try:
            lead = Lead.capture(
                uuid4(),
                name="Bench Lead",
                email=f"pdf-bench-{uuid4().hex}@example.invalid",
                phone="",
                company="Bench",
                source=source,
                campaign=rng.choice(demo.CAMPAIGNS[source]),
                landing_page="/lp/demo",
                persona=rng.choice(demo.PERSONAS),
                occurred_at=start + timedelta(days=rng.randrange(27), hours=rng.uniform(8, 19)),
            )
        finally:
            current_actor.reset(token)
        demo._play(demo._Story(lead, random.Random(rng.random()), NOW), rng)
        yield lead


def append_events(svc, month: str, count: int) -> int:  # type: ignore[no-untyped-def]
    before = svc.app.recorder.max_notification_id() or 0
    leads = new_leads(month, seed=before)
    while (svc.app.recorder.max_notification_id() or 0) - before < count:
        svc.app.capture_many([next(leads) for _ in range(10)])
    return (svc.app.recorder.max_notification_id() or 0) - before


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(label: str, url: str, month: str, downloads: int, new_events: int) -> None:
    replica_path = OUT / f"pdf_replica_{uuid4().hex[:8]}.sqlite3"
    with store_copy(url) as copy:
        config = {"DATABASE_URL": copy, "REPORT_REPLICA": str(replica_path)}
        app = create_app(config | {"WTF_CSRF_ENABLED": False, "INSECURE_COOKIES": True})
        svc = app.extensions[KEY]
        try:
            measure(label, app, svc, month, downloads, new_events)
        finally:
            svc.close()
            for leftover in OUT.glob(f"{replica_path.name}*"):
                leftover.unlink()


def measure(label, app, svc, month: str, downloads: int, new_events: int) -> None:  # type: ignore[no-untyped-def]
    position = svc.app.recorder.max_notification_id() or 0
    print(f"\n{label}: report {month} at log position {position:,} ({load()})")
    replica = open_replica(svc.settings, svc.app.recorder, svc.app.mapper)
    _, build_s = timed(replica.catch_up)
    replica.close()
    print(f"  replica built from 0 ({position:,} events)        {build_s:8.1f} s   ({load()})")
    figures, read_s = timed(lambda: monthly_figures(svc, month, today=TODAY))
    print(f"  figures from the warm replica (0 new events)  {read_s:8.2f} s")

    added = append_events(svc, month, new_events)
    figures, warm_s = timed(lambda: monthly_figures(svc, month, today=TODAY))
    print(f"  figures after {added:,} new events (warm replica)  {warm_s:8.2f} s   ({load()})")
    print(f"    month {month}: {figures.events_in_month:,} events, digest {figures.digest[:16]}…")

    with app.test_request_context():
        html, html_s = timed(lambda: pdf_module.render_monthly_html(figures, "es"))
        document, layout_s = timed(
            lambda: pdf_module.weasyprint.HTML(string=html, url_fetcher=pdf_module._fetcher()).render()
        )
        body, write_s = timed(document.write_pdf)
    pages = len(document.pages)
    render_s = html_s + layout_s + write_s
    print(f"  render: HTML {html_s:.2f} s + layout {layout_s:.2f} s + PDF {write_s:.2f} s = {render_s:.2f} s")
    print(f"    {pages} pages, {len(body):,} bytes: {render_s / max(pages, 1):.3f} s/page   ({load()})")
    print(f"  first download, cold replica  (build + figures + render)  {build_s + read_s + render_s:8.1f} s")
    print(f"  first download, warm replica  (figures + render)          {warm_s + render_s:8.2f} s")

    # The web download, through the real cache path: the same figures (not a new
    # read) feed render_monthly_pdf once, then the client's downloads hit the cache.
    original = pdf_module.monthly_figures
    pdf_module.monthly_figures = lambda *a, **k: figures  # type: ignore[assignment]
    try:
        with app.test_request_context():
            body = pdf_module.render_monthly_pdf(svc, month, "es", today=TODAY)
    finally:
        pdf_module.monthly_figures = original  # type: ignore[assignment]
    client = app.test_client()
    ensure_bench_user(svc.write_engine)
    client.post("/login", data={"username": "bench-manager", "password": PASSWORD})
    timings = []
    for _ in range(downloads):
        started = time.perf_counter()
        response = client.get(f"/reports/monthly.pdf?month={month}&lang=es")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.data == body, response.status_code
    median, p95 = stats_ms(timings)
    print(f"  cached download via /reports/monthly.pdf: median {median:.1f} ms, p95 {p95:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--downloads", type=int, default=30)
    parser.add_argument("--new-events", type=int, default=1000)
    parser.add_argument("--database-url", action="append")
    args = parser.parse_args()
    print(machine())
    for label, url in big_databases(args.database_url):
        run(label, url, args.month, args.downloads, args.new_events)


if __name__ == "__main__":
    main()
