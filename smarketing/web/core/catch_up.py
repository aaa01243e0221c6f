"""Read-your-writes with a bound: after a write the request waits for the read
models at most ``SMARKETING_CATCH_UP_WAIT`` seconds (default 1.5), then answers.

A stored write is never reported as failed because its figures lag: past the wait
the page confirms the write and says the figures are updating (the lead's timeline
polls itself, ``partials/lead_timeline.html``), while the catch-up goes on in the
background. A lock on the read models (a long rebuild, a migration, a stuck
session) or a slow batch then costs the user at most the wait.

One catch-up thread per process: requests that arrive while one is queued share
it (it starts after their writes were committed, so it covers them); one that is
already running may have read the log before this write, so another is queued.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from threading import Lock

from flask import Flask, current_app, g

from projections.engine.projector import Projector
from projections.engine.quarantine import UNAVAILABLE
from smarketing.extensions import KEY

log = logging.getLogger(__name__)

DEFAULT_WAIT = 1.5
EXTENSION = "smarketing.catch_up"


class BackgroundCatchUp:
    def __init__(self, projector: Callable[[], Projector]) -> None:
        self._projector = projector
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catch-up")
        self._lock = Lock()
        self._queued: Future[int] | None = None

    def _run(self) -> int:
        return self._projector().catch_up()

    def start(self) -> "Future[int]":
        with self._lock:
            future = self._queued
            if future is None or future.running() or future.done():
                future = self._executor.submit(self._run)
                future.add_done_callback(_log_failure)
                self._queued = future
            return future

    def wait(self, seconds: float) -> bool:
        """Catch up; True when done within ``seconds`` (else it finishes in the background)."""
        future = self.start()
        try:
            future.result(timeout=seconds)
        except FutureTimeout:
            return False
        except UNAVAILABLE:
            return False  # locked or busy: the projector process (or the next write) catches up
        return True

    def close(self) -> None:
        """Drop queued catch-ups and wait for the running one (before its engines close)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def _log_failure(future: "Future[int]") -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("background catch-up failed: %r", future.exception())


def catch_up_after_write() -> bool:
    """Wait (bounded) for the read models to include this request's write. False: the
    figures are still updating, and ``g.figures_updating`` tells the templates so."""
    worker: BackgroundCatchUp = current_app.extensions[EXTENSION]
    done = worker.wait(float(current_app.config.get("CATCH_UP_WAIT", DEFAULT_WAIT)))
    g.figures_updating = not done
    return done


def catch_up_in_background() -> None:
    """Start a catch-up without waiting for it: a page polling for figures that lag
    (the lead's timeline) gets them once a lock that outlasted the write's own
    catch-up goes, even with no projector process and no further write."""
    worker: BackgroundCatchUp = current_app.extensions[EXTENSION]
    worker.start()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = BackgroundCatchUp(lambda: app.extensions[KEY].projector)
