"""The monthly PDF read in Spanish: on the demo company's data, no sentence of English
(translated catalog strings left in English, or text built outside the catalog), no
number written with a decimal point and no month written as ISO, on any page."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from pypdf import PdfReader

from domain.agreement import add_months
from smarketing.bootstrap import Services
from smarketing.extensions import KEY
from smarketing.reports import pdf as report_pdf
from tests.spanish_text import not_spanish

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
DEMO_END = "2026-11"


def report_text(web_app: Flask, services: Services, month: str, lang: str) -> str:
    """The month's PDF as text, page after page (pypdf: no tool to install)."""
    with web_app.app_context(), time_machine.travel(NOW, tick=False):
        data = report_pdf.render_monthly_pdf(services, month, lang)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_monthly_report_reads_spanish(web_app: Flask, services: Services) -> None:
    with time_machine.travel(NOW, tick=False):
        demo = ["demo-data", "--end-month", DEMO_END, "--months", "2"]
        result = web_app.test_cli_runner().invoke(args=demo)
    assert result.exit_code == 0, result.output
    web_app.extensions[KEY].projector.catch_up()
    month = add_months(DEMO_END, -1)  # the month that just closed: what managers read
    spanish = report_text(web_app, services, month, "es")
    assert spanish.lower().count("octubre 2026") >= 3, spanish[:500]  # cover, headers, sections
    assert not not_spanish(spanish), not_spanish(spanish)
    assert month not in spanish  # the month in words, as on the cover, in every heading
    # The same reading finds the English report English: the text is really read.
    english = report_text(web_app, services, month, "en")
    assert len(not_spanish(english)) > 20, not_spanish(english)
