"""Where e-mails go: a real SMTP server (``SMARKETING_SMTP_URL``), or without one a
mailbox directory of .eml files under instance/ that the admin page lists."""

import os
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

SMTP_TIMEOUT = 10.0


class Transport(Protocol):
    def send(self, message: EmailMessage, name: str) -> None:
        """Hand the message over; raise ``OSError``/``smtplib.SMTPException`` when it was not."""


class SmtpTransport:
    def __init__(self, url: str, *, starttls: bool = False) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "smtp" or not parsed.hostname:
            raise ValueError("SMARKETING_SMTP_URL must look like smtp://user:pass@host:port")
        self.host = parsed.hostname
        self.port = parsed.port or 25
        self.user = unquote(parsed.username or "")
        self.password = unquote(parsed.password or "")
        self.starttls = starttls

    def send(self, message: EmailMessage, name: str) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


class MailboxTransport:
    """Writes ``<notification id>.eml``: a second write of the same one replaces it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self.directory / f"{name}.eml"
        partial = final.with_suffix(".part")
        partial.write_bytes(bytes(message))
        os.replace(partial, final)  # a reader never sees half a message


def from_environment(mailbox: Path) -> Transport:
    """SMTP when SMARKETING_SMTP_URL is set, else files in ``mailbox`` (``app_mailbox``)."""
    url = os.environ.get("SMARKETING_SMTP_URL", "")
    if not url:
        return MailboxTransport(mailbox)
    return SmtpTransport(url, starttls=os.environ.get("SMARKETING_SMTP_STARTTLS", "") == "1")


def mailbox_directory(instance: Path) -> Path:
    return instance / "mailbox"


def app_mailbox(config: Mapping[str, Any], instance: Path) -> Path:
    """The mailbox an app reads and its demo writes: MAILBOX_DIR (tests), else the one
    ``flask notifications`` writes under the instance folder."""
    configured = config.get("MAILBOX_DIR")
    return Path(configured) if configured else mailbox_directory(instance)


def mailbox(directory: Path, limit: int = 100) -> list[Path]:
    """The newest .eml files first (the admin page "Correo enviado")."""
    if not directory.is_dir():
        return []
    files = sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    return files[:limit]
