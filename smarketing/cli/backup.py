"""Backups of everything the log and its keys live in, and their restore (docs/OPERATIONS.md).

A backup FILE is a tar archive: ``manifest.json`` and one member per store.

- SQLite: each file of ``Settings.backed_up_sqlite_files`` is copied with SQLite's online
  backup API in one step, i.e. inside one read transaction: the copy is the database as
  it stood at one commit, whole transactions only, while writers go on (WAL mode lets a
  reader and writers run side by side). Files are copied in their listed order, the
  event store first, so a key store copied after it holds the key of every lead the
  copied log names (a key erased between the two copies stays erased).
- PostgreSQL: ``pg_dump --format=custom`` of each database of
  ``Settings.backed_up_postgres_databases``; pg_dump reads one snapshot by design.

Each member's SHA-256 is in the manifest and checked before a restore writes anything.
A restore puts the stores back where the settings say; the erasure ledger's
``flask audit erase --reapply`` then erases again whoever was erased after the backup.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from smarketing.bootstrap import init_schema
from smarketing.settings import Settings
from smarketing.store.key_store import create_key_database

FORMAT = "smarketing-backup-1"
MANIFEST = "manifest.json"
EVENTS_TABLE = "stored_events"  # the library's default table name, which the app keeps


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass
class Member:
    name: str  # the store's name in the settings ("events", ...)
    member: str  # its file name inside the archive
    bytes: int
    sha256: str
    log_position: int | None = None  # SQLite: the highest event position in the copy


@dataclass
class Manifest:
    backend: str  # "sqlite" | "postgresql"
    created_at: str
    members: list[Member] = field(default_factory=list)
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise BackupError(f"Not a Smarketing backup (format {data.get('format')!r}, expected {FORMAT}).")
        members = [Member(**m) for m in data["members"]]
        return cls(data["backend"], data["created_at"], members, data["format"])


def backend_of(settings: Settings) -> str:
    return "postgresql" if settings.is_postgres else "sqlite"


# --- create -------------------------------------------------------------------


def create_backup(settings: Settings, target: Path) -> Manifest:
    """Write a backup of every store to ``target`` (replaced only once complete)."""
    manifest = Manifest(backend_of(settings), datetime.now(UTC).isoformat(timespec="seconds"))
    with tempfile.TemporaryDirectory(prefix="smarketing-backup-", dir=_work_dir(target)) as work:
        folder = Path(work)
        copies = _sqlite_copies if not settings.is_postgres else _postgres_dumps
        manifest.members += copies(settings, folder)
        (folder / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        partial = folder / "backup.tar"
        with tarfile.open(partial, "w") as archive:
            archive.add(folder / MANIFEST, MANIFEST)
            for member in manifest.members:
                archive.add(folder / member.member, member.member)
        _fsync(partial)
        os.replace(partial, target)
    return manifest


def _work_dir(target: Path) -> Path:
    """Work beside the target, so the finished archive is moved into place, not copied."""
    folder = target.resolve().parent
    if not folder.is_dir():
        raise BackupError(f"No folder {folder} to write the backup in.")
    return folder


def _sqlite_copies(settings: Settings, folder: Path) -> Iterator[Member]:
    for name, source in settings.backed_up_sqlite_files().items():
        if not source.is_file():
            raise BackupError(f"The {name} store {source} does not exist: nothing to back up.")
        copy = folder / f"{name}.sqlite3"
        position = copy_sqlite(source, copy)
        yield Member(name, copy.name, copy.stat().st_size, _sha256(copy), position)


def copy_sqlite(source: Path, copy: Path) -> int | None:
    """A consistent copy of a live SQLite file; its highest event position, if it holds events."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        # pages=-1: the whole database in one step, so one read snapshot; a copy made in
        # several steps restarts whenever another connection writes meanwhile.
        src.backup(dst, pages=-1)
        # A self-contained file: no -wal beside it to lose on the way to the archive.
        dst.execute("PRAGMA journal_mode = DELETE")
        tables = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if EVENTS_TABLE not in tables:
            return None
        return int(dst.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {EVENTS_TABLE}").fetchone()[0])
    finally:
        dst.close()
        src.close()


def _postgres_dumps(settings: Settings, folder: Path) -> Iterator[Member]:
    pg_dump = _program("pg_dump")
    for name, url in settings.backed_up_postgres_databases().items():
        dump = folder / f"{name}.pgdump"
        _run([pg_dump, "--format=custom", "--no-owner", "--file", str(dump)], url, "pg_dump")
        yield Member(name, dump.name, dump.stat().st_size, _sha256(dump))


# --- restore ------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    try:
        with tarfile.open(source, "r") as archive:
            entry = archive.extractfile(MANIFEST)
            if entry is None:
                raise KeyError(MANIFEST)
            return Manifest.from_json(entry.read().decode("utf-8"))
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise BackupError(f"{source} is not a readable Smarketing backup: {error}") from None


def restore_backup(settings: Settings, source: Path, *, replace: bool = False) -> Manifest:
    """Put every store of the backup back where the settings keep it.

    Refuses to overwrite a store that holds data unless ``replace``; on SQLite the
    replaced files are kept beside it as ``*.before-restore``. Stop the web processes
    and the projector first: nothing may write while the stores are swapped.
    """
    manifest = read_manifest(source)
    if manifest.backend != backend_of(settings):
        raise BackupError(
            f"This backup is of a {manifest.backend} store; DATABASE_URL names a {backend_of(settings)} one."
        )
    with _extracted(source, manifest) as folder:
        if settings.is_postgres:
            _restore_postgres(settings, manifest, folder, replace)
        else:
            _restore_sqlite(settings, manifest, folder, replace)
    # The report's cache and (SQLite) the read models were built from the log as it was;
    # they rebuild from the restored one.
    settings.report_replica_path().unlink(missing_ok=True)
    if not settings.is_postgres:
        read_models = settings.read_models_path()
        for suffix in ("", "-wal", "-shm"):
            read_models.with_name(read_models.name + suffix).unlink(missing_ok=True)
        init_schema(settings)
    return manifest


@contextmanager
def _extracted(source: Path, manifest: Manifest) -> Iterator[Path]:
    with (
        tempfile.TemporaryDirectory(prefix="smarketing-restore-") as work,
        tarfile.open(source, "r") as archive,
    ):
        folder = Path(work)
        for member in manifest.members:
            archive.extract(member.member, folder, filter="data")
            if _sha256(folder / member.member) != member.sha256:
                raise BackupError(
                    f"{source}: {member.member} is damaged (its SHA-256 differs from the manifest)."
                )
        yield folder


def _restore_sqlite(settings: Settings, manifest: Manifest, folder: Path, replace: bool) -> None:
    targets = settings.backed_up_sqlite_files()
    unknown = [m.name for m in manifest.members if m.name not in targets]
    if unknown:
        raise BackupError(f"This installation keeps no store named {', '.join(unknown)}; check the settings.")
    holding = [str(targets[m.name]) for m in manifest.members if _holds_data(targets[m.name])]
    if holding and not replace:
        raise BackupError(
            f"{', '.join(holding)} already hold data; restore with --replace to set them aside."
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for member in manifest.members:
        target = targets[member.name]
        target.parent.mkdir(parents=True, exist_ok=True)
        incoming = target.with_name(target.name + ".restoring")
        shutil.copyfile(folder / member.member, incoming)
        _fsync(incoming)
        for suffix in ("", "-wal", "-shm"):
            present = target.with_name(target.name + suffix)
            if present.exists():
                present.replace(target.with_name(f"{target.name}.before-restore-{stamp}{suffix}"))
        os.replace(incoming, target)


def _holds_data(path: Path) -> bool:
    """Any table in the file (a process that merely opened it leaves an empty database)."""
    if not path.is_file():
        return False
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    finally:
        conn.close()


def _restore_postgres(settings: Settings, manifest: Manifest, folder: Path, replace: bool) -> None:
    pg_restore = _program("pg_restore")
    targets = settings.backed_up_postgres_databases()
    unknown = [m.name for m in manifest.members if m.name not in targets]
    if unknown:
        raise BackupError(
            f"This installation keeps no database named {', '.join(unknown)}; check the settings."
        )
    if "keys" in targets:
        # Restoring onto a new server: the operator created the main database only.
        _create_key_database(targets["keys"])
    for member in manifest.members:
        url = targets[member.name]
        if _has_tables(url) and not replace:
            raise BackupError(
                f"The database {member.name} already holds tables: restore into an empty database "
                "(dropdb/createdb), or use --replace to drop the backed-up objects first."
            )
    for member in manifest.members:
        command = [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction"]
        if replace:
            command += ["--clean", "--if-exists"]
        _run([*command, str(folder / member.member)], targets[member.name], "pg_restore")


def _create_key_database(url: str) -> None:
    try:
        create_key_database(url)
    except SQLAlchemyError as error:
        raise BackupError(f"Cannot create the key store's database to restore into: {error}") from None


def _has_tables(url: str) -> bool:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
    except psycopg.Error as error:
        raise BackupError(f"Cannot reach the database to restore into: {error}") from None
    return bool(row and row[0])


# --- helpers ------------------------------------------------------------------


def _program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} not found on the PATH: install the PostgreSQL client (Debian: postgresql-client)."
        )
    return found


def _run(command: list[str], url: str, what: str) -> None:
    """Run a PostgreSQL client program on the database at ``url``; its password travels
    in the environment, not on the command line where ``ps`` shows it."""
    parts = urlparse(url)
    env = os.environ.copy()
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@", 1))
    command = [*command, "--dbname", urlunparse(parts)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())
