"""Reading CSV files and parsing their cells: dates, amounts, row errors.

Accepted date and time formats (exactly these, nothing guessed):

- ``YYYY-MM-DD``                          a date: midnight in the chosen time zone
- ``YYYY-MM-DDTHH:MM`` / ``YYYY-MM-DD HH:MM``
- ``YYYY-MM-DDTHH:MM:SS`` / ``YYYY-MM-DD HH:MM:SS`` (optionally ``.ffffff``)
- any of the two above followed by ``Z`` or an offset ``+HH:MM`` / ``-HH:MM``:
  the offset wins over the chosen time zone
- ``DD/MM/YYYY``                          a date (day first, as in Spain): midnight

Times without an offset are read in the chosen time zone (default Europe/Madrid).
A wall-clock time that falls in a daylight-saving gap or overlap takes the
earlier reading (``fold=0``), as Python's zoneinfo does.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DATE_FORMATS = ("YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]", "DD/MM/YYYY")
DATE_FORMATS_HELP = ", ".join(DATE_FORMATS[:-1]) + " or " + DATE_FORMATS[-1]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$")
_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


class ImportFileError(Exception):
    """The file itself cannot be read (not the fault of one row)."""


class CellError(ValueError):
    """One cell cannot be read; the message says why, for a person."""


@dataclass
class RowError:
    row: int  # spreadsheet numbering: the header is row 1, the first data row is row 2
    column: str
    reason: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class RowWarning:
    row: int
    column: str
    message: str
    # What kind of problem (the import summary groups by it): ``AMOUNT_UNKNOWN`` or one
    # of the data-quality flags' kinds (``projections.data_quality.KINDS``).
    kind: str = "other"


AMOUNT_UNKNOWN = "amount_unknown"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFileError(f"Unknown time zone {name!r}.") from None


def parse_datetime(text: str, tz: ZoneInfo) -> datetime:
    value = text.strip()
    try:
        if _ISO_DATE.match(value):
            return datetime.fromisoformat(value).replace(tzinfo=tz)
        if _ISO_DATETIME.match(value):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
        if match := _DMY.match(value):
            day, month, year = (int(g) for g in match.groups())
            return datetime(year, month, day, tzinfo=tz)
    except ValueError:
        raise CellError(f"{value!r} is not a real date") from None
    raise CellError(f"{value[:40]!r} is not a date in a supported format ({DATE_FORMATS_HELP})")


_AMBIGUOUS = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(_\d{3})+(\.\d+)?$")


def parse_amount(text: str) -> Decimal:
    """Dot decimals ("1234.5"); a lone comma is read as a decimal comma ("1234,5");
    with both, the last is the decimal mark ("12.000,50", "12,000.50"). A lone mark
    before exactly three digits ("12.000", "12,000") could be thousands or decimals
    in a file of unknown notation: refused, never guessed."""
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if _AMBIGUOUS.match(value):
        raise CellError(f"{text[:40]!r} is ambiguous: thousands or decimals? Write 12000 or 12000.00")
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        if not _GROUPED.match(value.replace(grouping, "_").replace(decimal_mark, ".")):
            raise CellError(f"{text[:40]!r} is not a number")
        value = value.replace(grouping, "").replace(decimal_mark, ".")
    elif "," in value:
        value = value.replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CellError(f"{text[:40]!r} is not a number") from None
    if not amount.is_finite():
        raise CellError(f"{text[:40]!r} is not a number")
    return amount


@dataclass
class CsvData:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, cells by column)


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text; save it as CSV UTF-8 and try again.") from None


def read_csv_text(text: str) -> CsvData:
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except csv.Error as error:
        raise ImportFileError(f"The file is not valid CSV: {error}") from None
    if not any(header):
        raise ImportFileError("The first line must name the columns.")
    if len(set(header)) != len(header):
        raise ImportFileError("Two columns have the same name in the header.")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # blank lines at the end of spreadsheets' exports
            padded = cells + [""] * (len(header) - len(cells))
            row = dict(zip(header, padded, strict=False))
            if len(cells) > len(header):
                row["\0extra"] = "1"  # flagged so the row is rejected, not silently cut
            rows.append((number, row))
    except csv.Error as error:
        raise ImportFileError(f"The file is not valid CSV (line {reader.line_num}): {error}") from None
    return CsvData(header=header, rows=rows)


def read_csv(path: str | Path) -> CsvData:
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ImportFileError(f"Cannot read {path}: {error.strerror or error}") from None
    return read_csv_text(decode(raw))
