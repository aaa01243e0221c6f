"""The agreement's terms as of a log position, kept current without a query while
nothing but this process's own saves was written since.

Why: every interaction recorded on a lead in stage Lead must know the scoring rule
(auto-promote or not), and reading the terms from the log was a query per command
(a round trip on PostgreSQL, a noticeable share of a command's CPU on SQLite). Any check that a
cached copy is current is itself a query, except this one: the event log numbers
its notifications in commit order (both recorders serialise inserts: SQLite's single
writer, the PostgreSQL recorder's table lock), though not always without gaps (a
PostgreSQL insert that rolls back leaves its sequence values unused). So when a save of
ours got exactly the positions right after the ones the terms were known at, no
other event (a change of terms among them) was written in between, and the terms
known then are still the terms. Any gap (another process's write, a change of
terms by this one, a rolled-back insert) means one read from the log.
"""

import threading
from collections.abc import Callable, Sequence
from typing import Any

Terms = dict[str, dict[str, Any]]


class KnownTerms:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._terms: Terms | None = None
        self._as_of = 0  # the log position the terms are known to be current at

    def saw_saved(self, positions: Sequence[int]) -> None:
        """A save of events that cannot change the terms (a lead's) got these positions."""
        with self._lock:
            if positions and _follow(self._as_of, positions):
                self._as_of = positions[-1]

    def after_save(self, positions: Sequence[int], read: Callable[[], Terms]) -> Terms:
        """The terms as of the last of ``positions`` (a committed save's notification ids,
        passed to ``saw_saved`` first); ``read`` reads them from the log, only if it must."""
        if not positions:
            return read()
        with self._lock:
            if self._terms is not None and self._as_of >= positions[-1]:
                return _copy(self._terms)
        # Read after the save committed, so what is read is current as of its positions.
        terms = read()
        with self._lock:
            if positions[-1] >= self._as_of:
                self._terms, self._as_of = _copy(terms), positions[-1]
        return terms


def _follow(as_of: int, positions: Sequence[int]) -> bool:
    """Whether ``positions`` are exactly the ones right after ``as_of``, with no gap."""
    return positions[0] == as_of + 1 and positions[-1] == as_of + len(positions)


def _copy(terms: Terms) -> Terms:
    # Callers may change the sections they are handed; the kept ones must not change.
    return {section: dict(values) for section, values in terms.items()}
