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

Files are read as a stream, one physical line at a time, within the limits of
docs/OPERATIONS.md ("Imports: size and memory"), and quotes are read strictly: a row
whose quotes do not pair up is a rejected row with its reason, and reading goes on
from the line after its first one, so no row is swallowed by an open quote.
"""

import csv
import io
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import N_
from smarketing.importing.messages import Message

DATE_FORMATS = ("YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]", "DD/MM/YYYY")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$")
_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")

MAX_MB_VARIABLE = "SMARKETING_IMPORT_MAX_MB"
MAX_LINE_VARIABLE = "SMARKETING_IMPORT_MAX_LINE_KB"


def max_file_bytes() -> int:
    """The largest CSV file an import accepts (web and command line)."""
    return int(float(os.environ.get(MAX_MB_VARIABLE) or 64) * 1024 * 1024)


def max_line_chars() -> int:
    """The longest physical line a CSV file may have: a line of leads is a few hundred bytes."""
    return int(float(os.environ.get(MAX_LINE_VARIABLE) or 1024) * 1024)


class ImportFileError(Exception):
    """The file itself cannot be read (not the fault of one row)."""

    def __init__(self, template: str, **params: Any) -> None:
        self.message = Message(template, params)
        super().__init__(str(self.message))


class FileTooLarge(ImportFileError):
    def __init__(self, size: int) -> None:
        limit = max_file_bytes()
        super().__init__(
            N_("The file has %(size)s MB; an import accepts at most %(max)s MB."),
            size=_megabytes(size),
            max=_megabytes(limit),
        )


def _megabytes(size: int) -> Decimal | int:
    """Megabytes to the thousandth, whole when whole (a limit reads "64 MB", not "64.000")."""
    megabytes = (Decimal(size) / (1024 * 1024)).quantize(Decimal("0.001"))
    return int(megabytes) if megabytes == megabytes.to_integral_value() else megabytes


class CellError(ValueError):
    """One cell cannot be read; the message says why, for a person."""

    def __init__(self, template: str, **params: Any) -> None:
        self.message = Message(template, params)
        super().__init__(str(self.message))


@dataclass
class RowError:
    row: int  # spreadsheet numbering: the header is row 1, the first data row is row 2
    column: str
    why: Message
    values: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """In English (``messages.say(error.why)`` for the reader's language)."""
        return str(self.why)


@dataclass
class RowWarning:
    row: int
    column: str
    why: Message
    # What kind of problem (the import summary groups by it): ``AMOUNT_UNKNOWN`` or one
    # of the data-quality flags' kinds (``projections.models.data_quality.KINDS``).
    kind: str = "other"

    @property
    def message(self) -> str:
        return str(self.why)


AMOUNT_UNKNOWN = "amount_unknown"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFileError(N_("Unknown time zone %(zone)s."), zone=repr(name)) from None


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
        raise CellError(N_("%(value)s is not a real date"), value=repr(value)) from None
    raise CellError(
        N_("%(value)s is not a date in a supported format (%(formats)s)"),
        value=repr(value[:40]),
        formats=DATE_FORMATS,
    )


_AMBIGUOUS = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(_\d{3})+(\.\d+)?$")


def parse_amount(text: str) -> Decimal:
    """Dot decimals ("1234.5"); a lone comma is read as a decimal comma ("1234,5");
    with both, the last is the decimal mark ("12.000,50", "12,000.50"). A lone mark
    before exactly three digits ("12.000", "12,000") could be thousands or decimals
    in a file of unknown notation: refused, never guessed."""
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if _AMBIGUOUS.match(value):
        ambiguous = N_("%(value)s is ambiguous: thousands or decimals? Write 12000 or 12000.00")
        raise CellError(ambiguous, value=repr(text[:40]))
    not_a_number = CellError(N_("%(value)s is not a number"), value=repr(text[:40]))
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        if not _GROUPED.match(value.replace(grouping, "_").replace(decimal_mark, ".")):
            raise not_a_number
        value = value.replace(grouping, "").replace(decimal_mark, ".")
    elif "," in value:
        value = value.replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise not_a_number from None
    if not amount.is_finite():
        raise not_a_number
    return amount


@dataclass
class CsvData:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, cells by column)
    errors: list[RowError] = field(default_factory=list)  # rows whose quotes do not pair up

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.errors)


NOT_UTF8 = N_("The file is not UTF-8 text; save it as CSV UTF-8 and try again.")


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(NOT_UTF8) from None


class _Lines:
    """The file's physical lines for the csv reader, none longer than the limit (so one
    huge line is refused after reading just past the limit, not held whole). The lines
    of the record being read are kept: a broken record is read again from its second
    line, so the rows an open quote ran over are read as rows."""

    def __init__(self, stream: TextIO, limit: int) -> None:
        self.readline, self.limit = stream.readline, limit
        self.again: deque[str] = deque()
        self.record: list[str] = []
        self.read = 0  # physical lines read from the stream

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        if self.again:
            line = self.again.popleft()
        else:
            line = self.readline(self.limit + 1)
            if not line:
                raise StopIteration
            self.read += 1
            if len(line) > self.limit:
                raise ImportFileError(
                    N_("Line %(line)s is longer than %(max)s characters: this is not a CSV of leads."),
                    line=self.read,
                    max=self.limit,
                )
        self.record.append(line)
        return line

    def again_from_second_line(self) -> str:
        """Give back the broken record's lines after its first; return the first."""
        first, *rest = self.record or [""]
        self.again.extendleft(reversed(rest))
        return first


def _csv_reason(error: csv.Error) -> Message:
    text = str(error)
    if "unexpected end of data" in text:
        return Message(N_("a quote opened in this row is never closed"))
    if "field larger than field limit" in text:
        return Message(
            N_("a cell is longer than %(max)s characters (a quote never closed?)"),
            {"max": csv.field_size_limit()},
        )
    return Message(N_('quotes do not pair up: in a quoted cell, a quote is written twice ("")'))


# RFC 4180 quoting, whatever the sniffer guessed from the first lines: a quote inside a
# quoted cell is doubled, and nothing but a separator or a line end follows a closing quote.
def _strict_reader(lines: Iterable[str], dialect: Any) -> Iterator[list[str]]:
    return csv.reader(lines, dialect, strict=True, doublequote=True)


def _records(lines: _Lines, dialect: Any) -> Iterator[tuple[list[str] | None, Message | None, str]]:
    """(cells, None, "") per record, or (None, reason, its first line) for a broken one."""
    reader = _strict_reader(lines, dialect)
    record = lines.record
    while True:
        record.clear()
        try:
            yield next(reader), None, ""
        except StopIteration:
            return
        except csv.Error as error:
            yield None, _csv_reason(error), lines.again_from_second_line()
            reader = _strict_reader(lines, dialect)  # a fresh start on the next line


def _sniff(stream: TextIO) -> Any:
    sample = stream.read(4096)
    stream.seek(0)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


Row = tuple[int, dict[str, str]]


def _read(stream: TextIO) -> tuple[list[str], Iterator[Row | RowError]]:
    """The header, and the rows (or rejected rows) after it, read lazily from the stream."""
    dialect = _sniff(stream)
    records = _records(_Lines(stream, max_line_chars()), dialect)
    first = next(records, None)
    if first is None:
        raise ImportFileError(N_("The file is empty."))
    if first[0] is None:
        raise ImportFileError(N_("The first line is not valid CSV: %(reason)s"), reason=first[1])
    header = [h.strip() for h in first[0]]
    if not any(header):
        raise ImportFileError(N_("The first line must name the columns."))
    if len(set(header)) != len(header):
        raise ImportFileError(N_("Two columns have the same name in the header."))

    def rows() -> Iterator[Row | RowError]:
        for number, (cells, reason, line) in enumerate(records, start=2):
            if cells is None:
                yield RowError(number, "", reason or Message(""), _loose(line, dialect, header))
                continue
            if not any(c.strip() for c in cells):
                continue  # blank lines at the end of spreadsheets' exports
            padded = cells + [""] * (len(header) - len(cells))
            row = dict(zip(header, padded, strict=False))
            if len(cells) > len(header):
                row["\0extra"] = "1"  # flagged so the row is rejected, not silently cut
            yield number, row

    return header, rows()


def _batches(stream: TextIO, size: int) -> Iterator[CsvData]:
    try:
        header, items = _read(stream)
        batch = CsvData(header, [])
        for item in items:
            if isinstance(item, RowError):
                batch.errors.append(item)
            else:
                batch.rows.append(item)
            if batch.total >= size:
                yield batch
                batch = CsvData(header, [])
        yield batch  # the last, maybe empty: every file has at least one batch (its header)
    except UnicodeDecodeError:
        raise ImportFileError(NOT_UTF8) from None


def read_csv_stream(stream: TextIO) -> CsvData:
    """Read a whole CSV document from a text stream (opened with ``newline=""``)."""
    data: CsvData | None = None
    for batch in _batches(stream, 2**62):
        data = batch
    assert data is not None
    return data


def _loose(line: str, dialect: Any, header: list[str]) -> dict[str, str]:
    """A broken row's first line as cells, read leniently: the rejects file shows the row
    as it was, to be fixed and imported again."""
    cells = next(csv.reader([line.rstrip("\r\n")], dialect), [])
    return dict(zip(header, cells, strict=False))


def read_csv_text(text: str) -> CsvData:
    return read_csv_stream(io.StringIO(text, newline=""))


BATCH_ROWS = 10_000  # rows an import holds at a time


def survey(path: str | Path) -> tuple[CsvData, int]:
    """The file's first batch (its header and first rows) and its number of rows, reading
    it once, a batch at a time: every line is checked before any row is imported."""
    first: CsvData | None = None
    total = 0
    for batch in csv_batches(path, BATCH_ROWS):
        first = first or batch
        total += batch.total
    assert first is not None
    return first, total


def read_csv(path: str | Path) -> CsvData:
    """Read a CSV file as a stream, refusing one larger than the import limit unread."""
    data: CsvData | None = None
    for batch in csv_batches(path, 2**62):
        data = batch
    assert data is not None
    return data


def csv_batches(path: str | Path, size: int) -> Iterator[CsvData]:
    """The file in batches of ``size`` rows (rejected rows included), read as a stream, so
    an import holds one batch at a time; a file larger than the import limit is refused
    unread. The first batch comes as soon as it is read (the header with it)."""
    try:
        file_size = Path(path).stat().st_size
        if file_size > max_file_bytes():
            raise FileTooLarge(file_size)
        with open(path, encoding="utf-8-sig", newline="") as stream:
            yield from _batches(stream, size)
    except OSError as error:
        raise ImportFileError(
            N_("Cannot read %(path)s: %(error)s"), path=str(path), error=error.strerror or str(error)
        ) from None
