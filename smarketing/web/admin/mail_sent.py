"""The "Correo enviado" admin page: the mailbox of .eml files written when no SMTP
server is set (``transport.MailboxTransport``), so an admin of an offline install
sees what would have been mailed.

Every header and body is shown as text (Jinja escapes it): an e-mail is data from
the notifications, and nothing in one is ever rendered as HTML here. Files are
named by notification id (hex); any other name is a 404, so no path leaves the
mailbox directory.
"""

import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template
from flask_babel import lazy_pgettext

from smarketing.notifications.transport import app_mailbox, mailbox

bp = Blueprint("mail_sent", __name__, url_prefix="/mail-sent")

_NAME = re.compile(r"^[0-9a-f]{32}$")
# The e-mail's headers in the reader's words ("From" is a meeting elsewhere: a context).
HEADER_WORDS = {
    "Date": lazy_pgettext("e-mail header", "Date"),
    "From": lazy_pgettext("e-mail header", "From"),
    "To": lazy_pgettext("e-mail header", "To"),
    "Subject": lazy_pgettext("e-mail header", "Subject"),
    "Message-ID": lazy_pgettext("e-mail header", "Message-ID"),
}
MAX_BODY_CHARS = 20_000  # our notifications are a few lines; a stray big file is cut


def _directory() -> Path:
    return app_mailbox(current_app.config, Path(current_app.instance_path))


def _parse(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)  # the modern policy's class
    return parsed


def _when(message: EmailMessage, path: Path) -> datetime:
    try:
        return parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):  # no or a broken Date: when the file was written
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _summary(path: Path) -> dict[str, Any]:
    message = _parse(path)
    return {
        "name": path.stem,
        "when": _when(message, path),
        "to": str(message["To"] or ""),
        "subject": str(message["Subject"] or ""),
    }


@bp.get("/")
def index() -> str:
    return render_template("mail_sent.html", messages=[_summary(p) for p in mailbox(_directory())])


@bp.get("/<name>")
def show(name: str) -> str:
    path = _directory() / f"{name}.eml"
    if not _NAME.match(name) or not path.is_file():
        abort(404)
    message = _parse(path)
    part = message.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    headers = [(word, str(message[key] or "")) for key, word in HEADER_WORDS.items()]
    return render_template(
        "mail_sent.html",
        messages=None,
        one=_summary(path) | {"headers": headers, "body": str(body)[:MAX_BODY_CHARS]},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
