"""A small threaded HTTP load client for 127.0.0.1 only: real logins (CSRF
token, session cookie), a bounded count AND a time bound, mixed reads and
writes. Shared by bench/load.py and the gunicorn soak test.

Also starts gunicorn (``serve``) and stops it by its own process id.
"""

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only, by construction
_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"|name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    database_url: str, workers: int = 3, *, log: Path | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[int]:
    """gunicorn on 127.0.0.1 with ``workers`` workers on an initialised store; yields the port.
    ``extra_env``: more variables for the app (they win over the defaults here)."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url,
        "SMARKETING_INSECURE_COOKIES": "1",  # plain http on loopback
        "SMARKETING_LOGIN_RATE_LIMIT": '"1000 per minute"',  # many clients log in at once
        "PYTHONPATH": str(ROOT),
    }
    env |= extra_env or {}
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{port}",
         "--timeout", "60", "app:create_app()"],
        cwd=ROOT, env=env, stdout=out, stderr=out,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = request(port, "GET", "/login")
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start (exit {proc.poll()})")
            time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        data = urllib.parse.urlencode(body) if body is not None else None
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text
    finally:
        conn.close()


class Session:
    """One logged-in browser: the session cookie and the page's CSRF token."""

    def __init__(self, port: int) -> None:
        self.port, self.cookie, self.token, self.last_text = port, "", "", ""

    def _remember(self, headers: dict[str, str], text: str) -> None:
        self.last_text = text
        if "set-cookie" in headers:
            self.cookie = headers["set-cookie"].split(";", 1)[0]
        match = _TOKEN.search(text)
        if match:
            self.token = match[1] or match[2]

    def get(self, path: str) -> int:
        status, headers, text = request(self.port, "GET", path, headers={"Cookie": self.cookie})
        self._remember(headers, text)
        return status

    def post(self, path: str, form: dict[str, str], *, htmx: bool = True) -> tuple[int, str]:
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.token}
        if htmx:
            headers["HX-Request"] = "true"
        status, response_headers, text = request(self.port, "POST", path, form, headers)
        self._remember(response_headers, text)
        return status, text

    def login(self, username: str, password: str) -> None:
        self.get("/login")
        form = {"username": username, "password": password, "csrf_token": self.token}
        status, _ = self.post("/login", form, htmx=False)
        if status != 303:
            raise RuntimeError(f"login failed: {status}")
        self.get("/leads/")  # the token bound to the logged-in session


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    writes_accepted: int = 0
    statuses: Counter = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    written: Counter = field(default_factory=Counter)  # lead id -> accepted writes


def mixed_load(
    port: int,
    logins: list[tuple[str, str]],
    lead_ids: list[str],
    *,
    total: int,
    seconds: float,
    write_share: float = 0.2,
    seed: int = 1,
) -> LoadResult:
    """``len(logins)`` threads until ``total`` requests or ``seconds`` have passed."""
    result = LoadResult()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = iter(range(total))

    def worker(n: int, username: str, password: str) -> None:
        rng = random.Random(seed * 1000 + n)
        session = Session(port)
        session.login(username, password)
        while time.monotonic() < deadline:
            with lock:
                if next(budget, None) is None:
                    return
            lead = rng.choice(lead_ids)
            roll = rng.random()
            started = time.perf_counter()
            if roll < write_share:
                kind, (status, _) = (
                    "write",
                    session.post(
                        f"/leads/{lead}/interaction", {"kind": "note", "channel": "phone", "details": "load"}
                    ),
                )
            else:
                kind, path = rng.choice(
                    [("dashboard", "/"), ("list", "/leads/"), ("lead", f"/leads/{lead}"),
                     ("search", f"/leads/?q={rng.choice('aeiou')}ar")]
                )  # fmt: skip
                status = session.get(path)
            elapsed = time.perf_counter() - started
            with lock:
                result.requests += 1
                result.statuses[status] += 1
                result.latencies.setdefault(kind, []).append(elapsed)
                if kind == "write" and status == 200:
                    result.writes_accepted += 1
                    result.written[lead] += 1

    def guarded(n: int, username: str, password: str) -> None:
        try:
            worker(n, username, password)
        except Exception as error:  # noqa: BLE001 - reported in the result, the caller decides
            with lock:
                result.errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=guarded, args=(n, u, p)) for n, (u, p) in enumerate(logins)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    result.seconds = time.perf_counter() - started
    return result
