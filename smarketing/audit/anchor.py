"""Anchors: the log chain's head written outside the database (``flask audit
anchor``), to prove later (``flask audit verify --against FILE``) that the log
still extends it — which the chain alone cannot show against someone able to
rewrite both the events and their links.

An anchor is self-describing JSON (what was hashed and how, so it can be checked
without this code) signed with the installation's secret key (HMAC-SHA256): an
edited file, or one made by another installation, is refused.
"""

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from domain.errors import N_, DomainError
from smarketing.audit.chain import Head

FORMAT = "smarketing-log-anchor/1"
CHAIN = (
    "digest(n) = SHA-256(digest(n-1) || id || len(originator) || originator || version || "
    "len(topic) || topic || len(state) || state); integers 8-byte big-endian, texts UTF-8, "
    "digest(0) = SHA-256('smarketing-log-chain-v1'); id = the event's position (notification id)"
)


class AnchorError(DomainError):
    """The anchor file cannot be used; the message is for people."""


def _signature(document: dict[str, Any], secret: str) -> str:
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def anchor_text(head: Head, secret: str, now: datetime) -> str:
    """The anchor of ``head`` (a position and its digest) as JSON, signed."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "chain": CHAIN,
        "position": head.position,
        "digest": head.digest,
        "anchored_at": now.isoformat(timespec="seconds"),
    }
    document["signature"] = {"algorithm": "HMAC-SHA256", "value": _signature(document, secret)}
    return json.dumps(document, indent=2)


def read_anchor(text: str, secret: str) -> Head:
    """The head an anchor holds; AnchorError if it is not one, or not signed here."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise AnchorError(N_("The anchor file is not JSON.")) from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise AnchorError(N_("The file is not an anchor written by `flask audit anchor`."))
    position, digest = document.get("position"), document.get("digest")
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        raise AnchorError(N_("The anchor has no valid position."))
    if not isinstance(digest, str) or len(digest) != 64 or set(digest) - set("0123456789abcdef"):
        raise AnchorError(N_("The anchor has no valid digest."))
    signature = document.pop("signature", None)
    value = signature.get("value") if isinstance(signature, dict) else None
    if not isinstance(value, str) or not hmac.compare_digest(value, _signature(document, secret)):
        raise AnchorError(
            N_("The anchor's signature does not match: the file was edited, or made by another installation.")
        )
    return Head(position, digest)
