"""Benchmark: `flask import leads` end to end on 100,000 generated rows.

Writes a deterministic CSV into bench/out/ (git-ignored), imports it into a fresh
SQLite store (and into PostgreSQL when DATABASE_URL is set) through the real CLI,
and prints rows/s and total seconds. Target: well under two minutes.

    .venv/bin/python bench/import_100k.py [--rows 100000]
"""

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SOURCES = ["paid_search", "organic_search", "email", "social", "referral", "webinar", ""]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(100_000)  # fixed seed: the same file every run
    start = datetime(2024, 1, 1, 8, 0)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["key", "name", "email", "company", "source", "campaign", "captured_at"])
        for i in range(rows):
            at = start + timedelta(minutes=i * 5 + rng.randrange(5))
            writer.writerow(
                [f"B{i:07d}", f"Bench Lead {i}", f"bench{i}@example.com", f"Company {rng.randrange(5000)}",
                 rng.choice(SOURCES), f"campaign-{rng.randrange(40)}", at.strftime("%Y-%m-%d %H:%M:%S")]
            )  # fmt: skip


def flask(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "smarketing.web.core.factory:create_app", *args],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def run(label: str, database_url: str, csv_path: Path, rows: int) -> None:
    env = os.environ | {"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    flask(env, "db", "init")
    seconds = flask(env, "import", "leads", str(csv_path))
    print(f"{label}: {rows} rows in {seconds:.1f}s total = {rows / seconds:,.0f} rows/s (incl. projections)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"leads_{rows}.csv"
    if not csv_path.exists():
        generate(csv_path, rows)
    db = OUT / "bench.sqlite3"
    for leftover in OUT.glob("bench.*"):  # the store, its WAL, key store, ledger, report copy
        leftover.unlink()
    run("SQLite", f"sqlite:///{db}", csv_path, rows)
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        run("PostgreSQL (must be an empty database)", os.environ["DATABASE_URL"], csv_path, rows)


if __name__ == "__main__":
    main()
