"""Where a ``next`` link may send the browser: a path on this site, nothing else.

Checked on what the browser will act on, not on the text as sent: browsers drop
tabs and line breaks anywhere in a URL, trim leading and trailing spaces and
control characters, and read ``\\`` as ``/`` in http(s) URLs. So ``/\\t/evil.example``
becomes ``//evil.example`` (another host) once the browser has cleaned it, and a
check on the raw text lets it through.
"""

import re
from urllib.parse import unquote, urlsplit

_DROPPED = re.compile(r"[\t\r\n]")
_TRIMMED = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def browser_view(target: str) -> str:
    """``target`` as a browser normalises it before resolving it against this page."""
    return _DROPPED.sub("", target).strip(_TRIMMED).replace("\\", "/")


def _is_local_path(url: str) -> bool:
    parts = urlsplit(url)
    return (
        not parts.scheme
        and not parts.netloc
        and url.startswith("/")
        and not url.startswith("//")
        and not _CONTROL.search(url)
    )


def safe_next(target: str | None) -> str | None:
    """The same-site path ``target`` leads to, or None (the caller's default page).

    Percent-encoded forms are checked decoded too (``/%2F%2Fevil.example``,
    ``/%5Cevil``): a path that only becomes another site after one more decoding
    by a proxy or a later redirect is refused as well.
    """
    if not target:
        return None
    cleaned = browser_view(target)
    decoded = browser_view(unquote(cleaned))
    if not (_is_local_path(cleaned) and _is_local_path(decoded)):
        return None
    return cleaned
