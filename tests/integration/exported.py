"""Reading a CSV the app exported, as a spreadsheet does: the byte-order mark dropped and
the reader's separator (``;`` in Spanish, ``,`` in English) taken from the header line."""

import csv
import io


def exported_rows(data: bytes | str) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    header = text.split("\r\n", 1)[0]
    return list(csv.DictReader(io.StringIO(text), delimiter=";" if ";" in header else ","))
