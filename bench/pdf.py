"""Monthly PDF on the generated 1M-event stores (bench/generate.py), SQLite and
PostgreSQL in one run: the replay (figures from the log), the HTML+PDF render
per page, and the cached second download through the web app.

    .venv/bin/python bench/pdf.py [--month 2026-10] [--database-url URL ...]
"""

import argparse
import re
import time
from datetime import date

from common import PASSWORD, big_databases, ensure_bench_user, machine, stats_ms  # type: ignore[import-not-found]

from smarketing.extensions import KEY
from smarketing.reports import pdf as pdf_module
from smarketing.reports.replay import month_digest, monthly_figures
from smarketing.web.factory import create_app

TODAY = date(2026, 11, 26)  # the generated history ends here


def run(label: str, url: str, month: str, downloads: int) -> None:
    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "INSECURE_COOKIES": True})
    svc = app.extensions[KEY]
    position = svc.app.recorder.max_notification_id() or 0
    print(f"\n{label}: report {month} at log position {position}")
    started = time.perf_counter()
    _, in_month = month_digest(svc, month, position)
    digest_s = time.perf_counter() - started
    started = time.perf_counter()
    figures = monthly_figures(svc, month, log_position=position, today=TODAY)
    figures_s = time.perf_counter() - started
    print(f"  month digest alone ({in_month} events in month)  {digest_s:8.1f} s")
    print(f"  figures: digest + replay of {position} events       {figures_s:8.1f} s")
    # Render from the figures just computed (not a second replay), through the real
    # cache path: the bench swaps the replay for a look-up of those figures.
    original = pdf_module.monthly_figures
    pdf_module.monthly_figures = lambda *a, **k: figures  # type: ignore[assignment]
    try:
        with app.test_request_context():
            started = time.perf_counter()
            body = pdf_module.render_monthly_pdf(svc, month, "es", position, today=TODAY)
            render_s = time.perf_counter() - started
    finally:
        pdf_module.monthly_figures = original  # type: ignore[assignment]
    # Page objects (not the /Pages tree); 0 when the PDF packs them in object streams.
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", body))
    print(f"  HTML + WeasyPrint: {pages} pages, {len(body):,} bytes   {render_s:8.2f} s = "
          f"{render_s / max(pages, 1) * 1000:.0f} ms/page")  # fmt: skip
    print(f"  first download, total (figures + render)       {figures_s + render_s:8.1f} s")
    client = app.test_client()
    ensure_bench_user(svc.write_engine)
    client.post("/login", data={"username": "bench-manager", "password": PASSWORD})
    # The page asks for the current position: pin it by writing nothing meanwhile.
    timings = []
    for _ in range(downloads):
        started = time.perf_counter()
        response = client.get(f"/reports/monthly.pdf?month={month}&lang=es")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.data == body, response.status_code
    median, p95 = stats_ms(timings)
    print(f"  cached download via /reports/monthly.pdf: median {median:.1f} ms, p95 {p95:.1f} ms")
    svc.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--downloads", type=int, default=30)
    parser.add_argument("--database-url", action="append")
    args = parser.parse_args()
    print(machine())
    for label, url in big_databases(args.database_url):
        run(label, url, args.month, args.downloads)


if __name__ == "__main__":
    main()
