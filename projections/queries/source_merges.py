"""Merged sources, applied when figures are read (never by rewriting a lead's events).

A manager merges a new source (``eventos``) into a known one (``events``): an
event on the vocabulary, projected into ``agreement_docs`` with its log position.
The funnel, scorecard, lead list and dashboard queries then read the merged
source's leads as the target's: a filter on ``events`` also takes ``eventos``, a
breakdown by source groups ``eventos`` under ``events``, and the team a merged
source credits is the target's.

Reproducible reports: a monthly report reads its read models as they stood at a
log position, and ``agreement_docs`` is one of them, so a merge recorded after
that position never changes it. A sealed month's report applies only the merges
recorded up to its seal (``merges_until``), so a merge recorded later does not
change the PDF of a closed month even when it is printed at a later position.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from weakref import WeakSet

from sqlalchemy import Connection, Engine, case, inspect, select

from domain.sources import BUILT_IN
from projections.models.agreement_docs import agreement_docs

SOURCE = "source"
MERGE = "source_merge"
CAMPAIGN = "campaign"

_until: ContextVar[int | None] = ContextVar("merges_until", default=None)


@contextmanager
def merges_until(position: int | None) -> Iterator[None]:
    """Within the block, only merges recorded at or before ``position`` apply."""
    token = _until.set(position)
    try:
        yield
    finally:
        _until.reset(token)


def _has_docs(conn: Connection) -> bool:
    """Whether this store keeps the vocabulary (a replay of only some read models may not)."""
    engine = conn.engine
    if engine in _with_docs:
        return True
    found = inspect(conn).has_table(agreement_docs.name)
    if found:
        _with_docs.add(engine)
    return found


_with_docs: "WeakSet[Engine]" = WeakSet()


def vocabulary_docs(conn: Connection, kind: str) -> dict[str, dict[str, Any]]:
    """``{key: value}`` of the vocabulary's sources, merges or campaigns (as of ``merges_until``)."""
    if not _has_docs(conn):
        return {}
    statement = select(agreement_docs.c.key, agreement_docs.c.value).where(agreement_docs.c.kind == kind)
    until = _until.get()
    if until is not None:
        statement = statement.where(agreement_docs.c.position <= until)
    return {key: json.loads(value) for key, value in conn.execute(statement)}


def merges(conn: Connection) -> dict[str, str]:
    """``{merged source: the source it counts as}``."""
    return {key: value["into"] for key, value in vocabulary_docs(conn, MERGE).items()}


def counted_as(merged: dict[str, str], key: str) -> str:
    return merged.get(key, key)


def source_clause(column: Any, value: str, merged: dict[str, str]) -> Any:
    """``column`` names the source ``value`` (or a source merged into it)."""
    target = counted_as(merged, value)
    keys = [target, *sorted(k for k, into in merged.items() if into == target)]
    return column == target if len(keys) == 1 else column.in_(keys)


def source_group(column: Any, merged: dict[str, str]) -> Any:
    """``column`` with merged sources read as their targets (for GROUP BY)."""
    return case(merged, value=column, else_=column) if merged else column


def credited_team(conn: Connection, source: Any, team: Any, merged: dict[str, str]) -> Any:
    """The team a fact credits: a merged source's leads credit the target's team."""
    if not merged:
        return team
    accepted = vocabulary_docs(conn, SOURCE)
    teams = {}
    for key, into in merged.items():
        words = BUILT_IN.get(into)
        teams[key] = words.sourced_by if words else accepted.get(into, {}).get("sourced_by", "marketing")
    return case(teams, value=source, else_=team)


def signature(merged: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A hashable form of the merges, for cache keys."""
    return tuple(sorted(merged.items()))
