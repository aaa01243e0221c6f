"""Mixed read/write load against gunicorn (several workers, 127.0.0.1 only) on the
generated 1M-event stores, SQLite and PostgreSQL in one run. Bounded in requests
AND seconds. Writes are htmx posts of an interaction (each catches the read
models up before answering); reads are dashboard, list, search and lead pages.

    .venv/bin/python bench/load.py [--workers 3] [--clients 6] [--seconds 30] [--requests 3000]
"""

import argparse

from common import OUT, PASSWORD, big_databases, ensure_bench_user, machine, stats_ms  # type: ignore[import-not-found]
from loadclient import mixed_load, serve  # type: ignore[import-not-found]
from sqlalchemy import text

from smarketing.bootstrap import bootstrap
from smarketing.settings import Settings


def run(label: str, url: str, args: argparse.Namespace) -> None:
    svc = bootstrap(Settings(url))
    names = [ensure_bench_user(svc.write_engine, f"bench-load-{n}", "manager") for n in range(args.clients)]
    with svc.read_engine.connect() as conn:
        lead_ids = [r[0] for r in conn.execute(text("SELECT lead_id FROM lead_summary LIMIT 5000"))]
    svc.close()
    with serve(url, args.workers, log=OUT / f"gunicorn-{label}.log") as port:
        result = mixed_load(
            port, [(n, PASSWORD) for n in names], lead_ids, total=args.requests, seconds=args.seconds
        )
    print(f"\n{label}: {args.workers} gunicorn workers, {args.clients} clients")
    rate = result.requests / result.seconds
    print(f"  {result.requests} requests in {result.seconds:.1f}s = {rate:.1f} req/s")
    print(f"  statuses {dict(result.statuses)}; writes accepted {result.writes_accepted}")
    print(f"  client errors {len(result.errors)} {result.errors[:2]}")
    for kind, timings in sorted(result.latencies.items()):
        median, p95 = stats_ms(timings)
        print(f"  {kind:<10} n={len(timings):<5} median {median:7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--database-url", action="append")
    args = parser.parse_args()
    print(machine())
    for label, url in big_databases(args.database_url):
        run(label, url, args)


if __name__ == "__main__":
    main()
