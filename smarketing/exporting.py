"""CSV and JSON exports, made safe to open in a spreadsheet.

Every CSV cell written by the application goes through ``safe_cell``: a text that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as
a formula by Excel, LibreOffice or Google Sheets (CSV/formula injection, OWASP), so
it gets a leading single quote and is shown as plain text instead.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object, tz: ZoneInfo | None = None) -> str:
    """One cell as text; formula-looking text is neutralised with a leading quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, Decimal)):
        # Numbers stay numbers (a negative amount is data, not a formula).
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(
    header: list[str], rows: Iterable[Iterable[object]], tz: ZoneInfo | None = None
) -> Iterator[str]:
    """Yield a CSV document line by line (for streamed responses)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(c, tz) for c in row])
        yield buffer.getvalue()


def csv_text(header: list[str], rows: Iterable[Iterable[object]], tz: ZoneInfo | None = None) -> str:
    return "".join(csv_lines(header, rows, tz))
