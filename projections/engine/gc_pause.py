"""Pause Python's cyclic garbage collector while the projector applies a batch.

Why: a batch keeps its decoded events (up to 50k) and the rows built from them
alive until every projection has applied it, so they survive the young
collections and keep triggering full ones (Python 3.11 collects everything each time the
survivors grow by a quarter of the heap). At 200k events that was ~40 full
collections and about a fifth of a catch-up's CPU time, with nothing to free:
the projector's objects are released by reference counting (a whole 200k
catch-up with the collector off left ~4k objects in cycles). Between batches
the collector runs as usual, so any cycles a batch leaves are collected then.

Thread-safe and re-entrant: the web app catches up in request threads, so the
collector is re-enabled when the last pause ends, and only if it was enabled
when the first one began (code that disabled it itself keeps it disabled).
The pause is process-wide: cycles other threads make meanwhile wait for the
end of the batch (about two seconds for a full 50k-event one on the bench
machine; a catch-up after a web write is a few events), then the next
collection frees them.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
