"""JSON encoders built once and reused: the same bytes as the library's
``JSONTranscoder.encode`` and as ``json.dumps(..., sort_keys=True, ensure_ascii=False)``.

Why: ``JSONEncoder.encode`` goes through ``iterencode``, which builds a new C encoder
(and a ``floatstr`` closure and a circular-reference ``markers`` dict) on every call:
a fifth of a stored event's encoding, repaid on every
event of an import. Here the C encoder (``json.encoder.c_make_encoder``, the one
``iterencode`` builds) is made once with the same settings and the same ``default``
hook, so every value is written by the same code as before and the output is byte for
byte the same (tests/unit/test_event_encoding.py compares them on every kind of event).

One difference: no circular-reference check (an encoder shared between calls cannot
keep the per-call ``markers`` dict). Event state is never circular; if it were, the
encoder would stop with ``RecursionError`` instead of ``ValueError``.

When the C encoder is missing (an interpreter without ``_json``) or the transcoder's
encoder is not configured as the library's, the encoders fall back to the library's
own calls, so the bytes never depend on which path ran.
"""

import json
from collections.abc import Callable
from json import encoder as json_encoder
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoder

Encode = Callable[[Any], bytes]


def _reusable(
    default: Callable[[Any], Any], *, key_separator: str, item_separator: str, sort_keys: bool
) -> Callable[[Any], str] | None:
    """A C encoder for ``ensure_ascii=False``, no indent, NaN allowed; None without ``_json``."""
    make = getattr(json_encoder, "c_make_encoder", None)  # undeclared in typeshed; None without _json
    if make is None:
        return None
    encoder = make(
        None,  # markers: no circular check (see module docstring)
        default,
        json_encoder.encode_basestring,  # ensure_ascii=False, as the library's and seal's
        None,  # indent
        key_separator,
        item_separator,
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan
    )
    return lambda obj: "".join(encoder(obj, 0))


def _is_library_configured(encoder: json.JSONEncoder) -> bool:
    """Whether ``encoder`` is set up as eventsourcing 9.5's ``JSONTranscoder`` sets it up."""
    return (
        type(encoder) is json.JSONEncoder
        and encoder.key_separator == ":"
        and encoder.item_separator == ","
        and not encoder.ensure_ascii
        and not encoder.sort_keys
        and not encoder.skipkeys
        and encoder.allow_nan
        and encoder.indent is None
    )


def state_encoder(transcoder: Transcoder) -> Encode:
    """``transcoder.encode``, made faster when it is the library's ``JSONTranscoder``.

    The ``default`` hook is the transcoder's own, looked up per value as before, so
    transcodings registered later are used too.
    """
    if type(transcoder) is not JSONTranscoder or not _is_library_configured(transcoder.encoder):
        return transcoder.encode  # a custom transcoder: its own bytes, unchanged
    encode = _reusable(transcoder.encoder.default, key_separator=":", item_separator=",", sort_keys=False)
    if encode is None:
        return transcoder.encode
    return lambda obj: encode(obj).encode("utf8")


def _no_default(obj: Any) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_sorted_dumps = _reusable(_no_default, key_separator=": ", item_separator=", ", sort_keys=True)


def sorted_dumps(obj: Any) -> str:
    """``json.dumps(obj, sort_keys=True, ensure_ascii=False)``, without building an encoder per call."""
    if _sorted_dumps is None:
        return json.dumps(obj, sort_keys=True, ensure_ascii=False)
    return _sorted_dumps(obj)
