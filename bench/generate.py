"""Generate a large, deterministic history: 100,000 leads and ~1.1M events over
24 months, saved in large batches through ``app.save`` (via ``capture_many``).

The stories are smarketing.cli.demo_data's (stage conversion, owners, wins and
losses), each preceded by a nurture phase of several interactions, some with a
free-text note (personal data, so sealed under the lead's key like real ones).
Same seed and arguments, same events (ids and business times).

    .venv/bin/python bench/generate.py                      # SQLite, bench/out/smk_1m.sqlite3
    .venv/bin/python bench/generate.py --database-url postgresql://postgres@127.0.0.1:5432/smk_bench_1m
"""

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from domain.actor import current_actor  # noqa: E402
from domain.lead import Lead  # noqa: E402
from smarketing.bootstrap import bootstrap, init_schema  # noqa: E402
from smarketing.cli import demo_data as demo  # noqa: E402
from smarketing.settings import Settings  # noqa: E402

OUT = ROOT / "bench" / "out"
DEFAULT_SQLITE = f"sqlite:///{OUT / 'smk_1m.sqlite3'}"
END_MONTH = "2026-11"
NOW = datetime(2026, 11, 26, 18, tzinfo=UTC)  # fixed, so the history never depends on the day
TZ = ZoneInfo("Europe/Madrid")
NOTES = ["Pidió precios por correo", "Interesado en la integración con su ERP", "Vuelve a mirar la demo", ""]


def _nurture(story: "demo._Story", rng: random.Random, marketer: str) -> None:
    """The extra interactions a lead collects before the demo story plays out."""
    for _ in range(rng.randint(2, 6)):
        if not story.later(rng.uniform(1, 48)):
            return
        kind, channel = rng.choice(demo.INTERACTIONS)
        note = rng.choice(NOTES) if rng.random() < 0.3 else ""
        story.act(marketer, "record_interaction", kind=kind, channel=channel, details=note)


def bench_leads(total: int, seed: int, months: int = 24) -> Iterator[Lead]:
    """``total`` leads over ``months`` months ending at END_MONTH, growing month by month."""
    rng = random.Random(seed)
    sources, weights = zip(*demo.SOURCES, strict=True)
    calendar = demo.months_back(END_MONTH, months)
    shares = [1.0 + n / months for n in range(months)]  # later months capture more
    per_month = [int(total * s / sum(shares)) for s in shares]
    per_month[-1] += total - sum(per_month)
    index = 0
    for (year, month), count in zip(calendar, per_month, strict=True):
        start = datetime(year, month, 1, tzinfo=TZ)
        days = 25 if (year, month) == (NOW.year, NOW.month) else 28
        for _ in range(count):
            index += 1
            captured = start + timedelta(days=rng.randrange(days), hours=rng.uniform(8, 19))
            source = rng.choices(sources, weights)[0]
            first, last = rng.choice(demo.FIRST), rng.choice(demo.LAST)
            marketer = rng.choice(demo.MARKETERS)
            token = current_actor.set(marketer)
            try:
                lead = Lead.capture(
                    uuid5(NAMESPACE_URL, f"smarketing:bench:{seed}:{index}"),
                    name=f"{first} {last}",
                    email=demo._ascii(f"{first}.{last}.{index}@example.com".lower()),
                    phone=f"+34 6{rng.randrange(10_000_000, 99_999_999)}",
                    company=f"{rng.choice(demo.COMPANIES)} {rng.randrange(2000)}",
                    source=source,
                    campaign=rng.choice(demo.CAMPAIGNS[source]),
                    landing_page=f"/lp/{rng.choice(['demo', 'ebook-sla', 'precios', 'webinar'])}",
                    persona=rng.choice(demo.PERSONAS),
                    occurred_at=min(captured, NOW - timedelta(hours=1)),
                )
            finally:
                current_actor.reset(token)
            story = demo._Story(lead, random.Random(rng.random()), NOW)
            _nurture(story, story.rng, marketer)
            demo._play(story, rng)
            yield lead


def ensure_postgres_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def generate(database_url: str, leads: int, seed: int, batch: int, project: bool) -> None:
    settings = Settings(database_url=database_url)
    if settings.is_postgres:
        ensure_postgres_database(database_url)
    else:
        OUT.mkdir(parents=True, exist_ok=True)
    init_schema(settings)
    services = bootstrap(settings)
    try:
        app = services.app
        if (app.recorder.max_notification_id() or 0) > 0:
            print(f"{database_url}: already holds events; not generating again.")
            return
        started = time.perf_counter()
        chunk: list[Lead] = []
        saved = 0
        for lead in bench_leads(leads, seed):
            chunk.append(lead)
            if len(chunk) == batch:
                saved += app.capture_many(chunk)
                chunk = []
        saved += app.capture_many(chunk)
        for month, metric, value, reason in demo.demo_targets(END_MONTH, 24):
            app.set_target(month, metric, value, reason, occurred_at=demo.target_set_at(month, TZ, NOW))
        seconds = time.perf_counter() - started
        events = app.recorder.max_notification_id() or 0
        print(
            f"generated {saved} leads, {events} events in {seconds:.1f}s = {events / seconds:,.0f} events/s"
        )
        if project:
            started = time.perf_counter()
            applied = services.projector.catch_up()
            seconds = time.perf_counter() - started
            print(
                f"projected {applied} event applications in {seconds:.1f}s = {events / seconds:,.0f} events/s"
            )
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch", type=int, default=1000, help="leads per app.save")
    parser.add_argument("--no-project", action="store_true", help="leave the read models behind")
    args = parser.parse_args()
    generate(args.database_url, args.leads, args.seed, args.batch, not args.no_project)


if __name__ == "__main__":
    main()
