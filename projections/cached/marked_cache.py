"""Per-store, per-process caches of figures keyed by month marks
(``projections.engine.month_marks``): the machinery ``scorecard_cache`` and
``funnel_cache`` share. An entry is only as good as its key: callers put the
marks they read before computing into it."""

import threading
from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table, inspect


class MarkedCache:
    def __init__(self, mark_tables: tuple[Table, ...], max_entries: int) -> None:
        self.mark_tables = mark_tables
        self.max_entries = max_entries
        # Per engine (a store): tests and tools open several stores in one process.
        self._stores: WeakKeyDictionary[Engine, OrderedDict[tuple, Any] | None] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def usable(self, engine: Engine) -> bool:
        """False for a store whose mark tables ``flask db init`` has not created yet
        (checked once per engine): its figures are always computed."""
        with self._lock:
            if engine in self._stores:
                return self._stores[engine] is not None
        ready = all(inspect(engine).has_table(table.name) for table in self.mark_tables)
        with self._lock:
            return self._stores.setdefault(engine, OrderedDict() if ready else None) is not None

    def get(self, engine: Engine, key: tuple) -> Any | None:
        with self._lock:
            store = self._stores.get(engine)
            if store is None or key not in store:
                return None
            store.move_to_end(key)
            return store[key]

    def put(self, engine: Engine, key: tuple, value: Any) -> None:
        with self._lock:
            store = self._stores.get(engine)
            if store is None:
                return
            store[key] = value
            while len(store) > self.max_entries:
                store.popitem(last=False)
