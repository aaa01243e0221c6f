"""Server time of the main pages on the generated 1M-event stores (bench/generate.py),
SQLite and PostgreSQL in one run: median and p95 over many requests, timed around
the WSGI call with Flask's test client and a logged-in session.

    .venv/bin/python bench/pages.py [--iterations 60] [--database-url URL ...] [--no-scorecard-cache]
    .venv/bin/python bench/pages.py --write-between --database-url <a copy>  # logs a call per request
"""

import argparse
import os
import random
import time
import uuid

from common import PASSWORD, big_databases, ensure_bench_user, machine, stats_ms  # type: ignore[import-not-found]
from sqlalchemy import text

from app import create_app  # the served entry point (gunicorn 'app:create_app()'), GC freeze included
from projections.cached import scorecard_cache
from smarketing.bootstrap import Services
from smarketing.extensions import KEY

TARGET_MS = 50.0
ADMIN_PAGES = {"integrations"}  # access.py: integration tokens are the admins' (a manager gets 403)


def pages(lead_ids: list[str], rng: random.Random) -> dict[str, object]:
    """Page name -> URL, or a callable giving a fresh URL (a different lead each time).

    Every GET page of the app (``app.url_map``), with the lead list and dashboard in
    their common filtered forms. Not here: CSV/JSON/PDF downloads (bench/pdf.py for
    the report) and ``/audit/verify``, which re-hashes the whole log on purpose.
    """
    return {
        "dashboard": "/",
        "dashboard, month + source": "/?month=2026-10&source=paid_search",
        "lead list": "/leads/",
        "list filtered (stage+owner)": "/leads/?stage=MQL&owner=lucia.romero",
        "list sorted by activity": "/leads/?sort=activity&source=paid_search",
        "list searched (common)": "/leads/?q=garc",
        "list searched (rare)": "/leads/?q=zzqx",
        "list searched (email)": lambda: f"/leads/?q={rng.randrange(1, 100_000)}@example",
        "list, overdue filter": "/leads/?overdue=1",
        "new lead form": "/leads/new",
        "e-mail check (htmx)": lambda: f"/leads/check-email?email={rng.randrange(1, 100_000)}@example.com",
        "lead page": lambda: f"/leads/{rng.choice(lead_ids)}",
        "audit index": "/audit/",
        "audit replay": lambda: f"/audit/leads/{uuid.UUID(rng.choice(lead_ids))}",
        "audit replay, step 2": lambda: f"/audit/leads/{uuid.UUID(rng.choice(lead_ids))}?step=2",
        "audit as of a date": lambda: f"/audit/as-of?lead_id={uuid.UUID(rng.choice(lead_ids))}&at=2026-01-31",
        "audit agreement history": "/audit/agreement",
        "agreement (targets)": "/agreement/",
        "agreement plan": "/agreement/plan",
        "agreement terms": "/agreement/terms",
        "vocabulary": "/agreement/vocabulary",
        "needs attention": "/agreement/attention",
        "ready for MQL": "/agreement/ready",
        "weekly meeting": "/meetings/weekly",
        "monthly meeting": "/meetings/monthly",
        "reports": "/reports/",
        "import": "/import/",
        "integrations": "/integrations/",
    }


def write_one(svc: Services, mql_ids: list[str], rng: random.Random) -> None:
    """A busy team: a call logged now on a lead in MQL, projected before the next request
    (untimed). It is a fact of the current month, and a first contact of the month the
    lead became an MQL in, so the scorecard cache must recompute both."""
    svc.app.log_contact_attempt(rng.choice(mql_ids), channel="phone", outcome="no_answer")
    svc.projector.catch_up()


def run(
    label: str, url: str, iterations: int, only: list[str], write_between: bool = False
) -> list[tuple[str, float, float]]:
    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "INSECURE_COOKIES": True})
    svc = app.extensions[KEY]
    username = ensure_bench_user(svc.write_engine)
    with svc.read_engine.connect() as conn:
        lead_ids = [r[0] for r in conn.execute(text("SELECT lead_id FROM lead_summary"))]
        mql_ids = [r[0] for r in conn.execute(text("SELECT lead_id FROM lead_summary WHERE stage = 'MQL'"))]
    events = svc.app.recorder.max_notification_id() or 0
    print(f"\n{label}: {len(lead_ids)} leads, {events} events")
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    admin = app.test_client()  # the pages only an admin may open
    admin_name = ensure_bench_user(svc.write_engine, "bench-admin", "admin")
    assert admin.post("/login", data={"username": admin_name, "password": PASSWORD}).status_code == 303
    rng = random.Random(5)
    results = []
    for name, target in pages(lead_ids, rng).items():
        if only and not any(o in name for o in only):
            continue
        timings = []
        for i in range(iterations + 3):
            path = target() if callable(target) else target
            if write_between:
                write_one(svc, mql_ids, rng)
            started = time.perf_counter()
            response = (admin if name in ADMIN_PAGES else client).get(path)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (path, response.status_code)
            if i >= 3:  # first requests warm templates and pools
                timings.append(elapsed)
        median, p95 = stats_ms(timings)
        flag = "" if p95 < TARGET_MS else f"   MISSES {TARGET_MS:.0f} ms by {p95 - TARGET_MS:.0f} ms"
        print(f"  {name:<28} median {median:7.1f} ms   p95 {p95:7.1f} ms{flag}")
        results.append((name, median, p95))
    svc.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--database-url", action="append")
    parser.add_argument("--only", action="append", default=[], help="pages whose name contains this")
    parser.add_argument(
        "--no-scorecard-cache",
        action="store_true",
        help="compute every month's scorecard on every request (the live cost, not a cache hit)",
    )
    parser.add_argument(
        "--write-between",
        action="store_true",
        help="log a call (now, a lead in MQL) and catch up before each request, untimed: "
        "pages as a busy team sees them. WRITES TO THE STORE: use a copy",
    )
    args = parser.parse_args()
    if args.no_scorecard_cache:
        os.environ[scorecard_cache.ENV] = "0"
    print(f"scorecard cache: {'on' if scorecard_cache.enabled() else 'off'}")
    print(machine())
    for label, url in big_databases(args.database_url):
        run(label, url, args.iterations, args.only, args.write_between)


if __name__ == "__main__":
    main()
