"""CSV and JSON exports, made safe to open in a spreadsheet.

A CSV is written in its reader's convention (``CsvStyle``): in Spanish cells are
separated by ``;`` and decimals written with a comma, in English ``,`` and a point,
both UTF-8 with a byte-order mark so Excel reads the accents; numbers are rounded as
the pages show them (``rounded``). ``?format=raw`` on any export gives the machine
form instead: ``,``, a point, full precision, ISO 8601 times with their offset, no mark.

Every CSV cell written by the application goes through ``safe_cell``: a text that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as
a formula by Excel, LibreOffice or Google Sheets (CSV/formula injection, OWASP), so
it gets a leading single quote and is shown as plain text instead.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_decimal_symbol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"

# How many decimals a figure of each unit shows on the pages (smarketing.present.formatting):
# a ratio as a percentage with one decimal, hours and days with one, money with two, a
# count none when whole and one when not (an average such as attempts per MQL).
SHOWN_DECIMALS = {"ratio": 3, "hours": 1, "days": 1, "eur": 2, "money": 2, "count": 1}


@dataclass(frozen=True)
class CsvStyle:
    delimiter: str = ","
    decimal: str = "."
    bom: bool = False
    raw: bool = True  # full precision and ISO times with their offset

    @classmethod
    def for_reader(cls, locale: object, raw: bool = False) -> "CsvStyle":
        """The reader's spreadsheet convention, or the machine form (``raw``)."""
        if raw:
            return cls()
        decimal = get_decimal_symbol(str(locale or "es"))
        return cls(delimiter=";" if decimal == "," else ",", decimal=decimal, bom=True, raw=False)


MACHINE = CsvStyle()


def rounded(value: object, unit: str) -> object:
    """A figure rounded as the pages show it (unchanged when not a number)."""
    places = SHOWN_DECIMALS.get(unit)
    if places is None or not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        return value
    if unit == "count" and Decimal(str(value)) == Decimal(str(value)).to_integral():
        return value
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def safe_cell(value: object, tz: ZoneInfo | None = None, style: CsvStyle = MACHINE) -> str:
    """One cell as text; formula-looking text is neutralised with a leading quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(tz) if tz else value
        # A spreadsheet reads "2026-10-03 12:00:00" as a date and time; the offset it does not.
        return local.isoformat(timespec="seconds") if style.raw else local.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, Decimal)):
        # Numbers stay numbers (a negative amount is data, not a formula).
        return str(value) if style.decimal == "." else str(value).replace(".", style.decimal)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(
    header: list[str],
    rows: Iterable[Iterable[object]],
    tz: ZoneInfo | None = None,
    style: CsvStyle = MACHINE,
) -> Iterator[str]:
    """Yield a CSV document line by line (for streamed responses)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in header])
    yield (BOM if style.bom else "") + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(c, tz, style) for c in row])
        yield buffer.getvalue()


def csv_text(
    header: list[str], rows: Iterable[Iterable[object]], tz: ZoneInfo | None = None, style: CsvStyle = MACHINE
) -> str:
    return "".join(csv_lines(header, rows, tz, style))
