"""Text a form may carry: valid UTF-8 without control characters.

Werkzeug decodes form fields leniently: bytes that are not UTF-8 (``%ED%B3%BF``,
a lone surrogate; ``%FF``) come through re-quoted as the literal text ``%ED%B3%BF``,
which would then be stored as if the person had typed it. So the raw bytes of the
query string and of an url-encoded body are decoded strictly here, before any view
reads them, and a request carrying broken text is refused with 400. NUL and the
other control characters (except tab and line breaks) are refused as well:
PostgreSQL cannot store NUL in text, and nobody types the others.
"""

import re
from urllib.parse import unquote_to_bytes

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

URLENCODED = "application/x-www-form-urlencoded"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REPLACED = "\ufffd"  # what the multipart parser leaves where bytes were not UTF-8


def _pairs_are_text(raw: bytes) -> str | None:
    """The name of the first field whose name or value is not clean text, else None."""
    for pair in raw.split(b"&"):
        if not pair:
            continue
        for part in pair.split(b"=", 1):
            try:
                text = unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return _field_name(pair)
            if _CONTROL.search(text):
                return _field_name(pair)
    return None


def _field_name(pair: bytes) -> str:
    name = unquote_to_bytes(pair.split(b"=", 1)[0].replace(b"+", b" "))
    return name.decode("utf-8", "replace")[:40]


def invalid_field(request: Request) -> str | None:
    """The first field of ``request`` holding text that is not valid, or None."""
    found = _pairs_are_text(request.query_string)
    if found is not None:
        return found
    if request.mimetype == URLENCODED:
        return _pairs_are_text(request.get_data(cache=True))
    if request.mimetype == "multipart/form-data":
        try:
            fields = request.form.items(multi=True)
        except RequestEntityTooLarge:  # the view answers it in its own words (an import's limit)
            return None
        for name, value in fields:
            if _REPLACED in value or _CONTROL.search(value):
                return name[:40]
    return None
