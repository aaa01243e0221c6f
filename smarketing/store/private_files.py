"""Files the app writes are readable by its own user only (mode 0600).

They hold personal data and secrets: the SQLite store (names, e-mails, password
hashes), the report replica, uploaded and rejected CSV rows, the session key. A
per-file mode rather than a process umask: gunicorn, the CLI and tests create
files from different processes, and a umask set in one of them would silently
not apply to another. A file made by an older version with a wider mode is
narrowed when the app next opens it.
"""

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO, TextIO

MODE = 0o600
DIRECTORY_MODE = 0o700
log = logging.getLogger(__name__)


def private_dir(path: Path) -> Path:
    """``path`` as a directory only this user may list and enter (created if missing)."""
    path.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    narrow(path, DIRECTORY_MODE)
    return path


def narrow(path: Path, mode: int = MODE) -> None:
    """Take group and other access away from an existing ``path``."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        try:
            os.chmod(path, current & mode)
        except PermissionError:  # another user's file (a mounted volume): say so, keep running
            log.warning("%s is readable by others (mode %o) and not ours to change", path, current)


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists; narrow it if it does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, MODE))
    except FileExistsError:
        narrow(path)
    return path


def private_sqlite(path: Path) -> Path:
    """An SQLite database file made private before SQLite opens it. SQLite gives the
    -wal and -shm files it creates the database file's mode; ones left by an older
    version are narrowed too."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            narrow(companion)
    return path


def open_private_bytes(path: Path) -> BinaryIO:
    """``path`` opened for writing bytes, mode 0600."""
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, MODE)
    os.fchmod(fd, MODE)  # O_CREAT's mode applies only to a new file
    return os.fdopen(fd, "wb")


def open_private_text(path: Path) -> TextIO:
    """``path`` opened for writing text (UTF-8, no newline translation), mode 0600."""
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, MODE)
    os.fchmod(fd, MODE)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
