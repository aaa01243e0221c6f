"""A PostgreSQL server of the test session's own, for a machine where none is given.

`make test` on a fresh machine runs the PostgreSQL half too: when
SMARKETING_TEST_POSTGRES_URL is not set, the session creates a cluster in a temporary
directory with the system's ``initdb``/``pg_ctl`` (Debian's postgresql package puts them
under /usr/lib/postgresql/N/bin), serves it on a free loopback port with trust
authentication, and removes it at the end. PostgreSQL refuses to run as root, so as root
(as CI runs) the cluster belongs to the ``postgres`` system user, or to ``nobody``.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from glob import glob
from pathlib import Path


def server_binaries() -> Path | None:
    """The directory of the newest installed PostgreSQL server's programs, if any."""
    found = [Path(p).parent for p in glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append(Path(on_path).parent)
    found = [d for d in found if (d / "initdb").exists()]
    return max(found, key=lambda d: d.parts) if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _owner() -> tuple[list[str], int, int]:
    """The command prefix that runs a program as the cluster's owner, and its uid/gid."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root with neither a 'postgres' nor a 'nobody' user")


def start() -> tuple[str, Callable[[], None]]:
    """Start a throwaway server; return its URL (database ``postgres``) and how to stop it."""
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError("no PostgreSQL server programs (install Debian's 'postgresql' package)")
    prefix, uid, gid = _owner()
    home = Path(tempfile.mkdtemp(prefix="smarketing-pg-"))
    os.chown(home, uid, gid)
    data, log = home / "data", home / "server.log"
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off -c max_connections=200"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")

    def stop() -> None:
        try:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(home, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop
