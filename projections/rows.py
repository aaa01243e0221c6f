"""Batch helper for read models keyed by lead: load the rows a batch touches
once, change them in memory, write them back in one statement each way."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

_CHUNK = 500  # stays under every backend's bound-parameter limit


def chunks(items: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class RowsByLead:
    def __init__(self, conn: Connection, table: Table) -> None:
        self.conn = conn
        self.table = table
        self.rows: dict[str, dict[str, Any]] = {}
        self.changed: set[str] = set()

    def load(self, lead_ids: Iterable[str]) -> None:
        wanted = sorted(set(lead_ids) - self.rows.keys())
        for chunk in chunks(wanted):
            for row in self.conn.execute(select(self.table).where(self.table.c.lead_id.in_(chunk))):
                self.rows[row.lead_id] = dict(row._mapping)

    def get(self, lead_id: str) -> dict[str, Any] | None:
        return self.rows.get(lead_id)

    def put(self, row: dict[str, Any]) -> None:
        self.rows[row["lead_id"]] = row
        self.changed.add(row["lead_id"])

    def flush(self) -> None:
        changed = sorted(self.changed)
        for chunk in chunks(changed):
            self.conn.execute(delete(self.table).where(self.table.c.lead_id.in_(chunk)))
        if changed:
            self.conn.execute(insert(self.table), [self.rows[k] for k in changed])
        self.changed.clear()


def lead_key(event: Any) -> str:
    return event.originator_id.hex
