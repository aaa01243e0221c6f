"""``insert_rows`` and ``insert_tuples`` (the fast paths of the projections' bulk
inserts) store exactly what SQLAlchemy's own executemany stores, datetimes included."""

import os
from datetime import datetime

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.exc import DBAPIError

from projections.engine.rows import insert_rows, insert_tuples
from tests.conftest import POSTGRES_MISSING, drop_postgres_database, postgres_database

meta = MetaData()


def _table(name: str) -> Table:
    return Table(
        name,
        meta,
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
        Column("at", DateTime, nullable=True),
        Column("n", Integer, nullable=True, default=7),
    )


fast, slow, tuples = _table("fast"), _table("slow"), _table("tuples")

ROWS = [
    {"id": 1, "name": "a", "at": datetime(2026, 1, 2, 3, 4, 5, 6), "n": 1},
    {"id": 2, "name": "ñ", "at": datetime(2026, 1, 2, 3, 4, 5), "n": None},
    {"id": 3, "name": None, "at": None, "n": 3},
    {"id": 4, "name": "z", "at": datetime(987, 1, 2), "n": 4},
]


def test_same_stored_text_as_sqlalchemy() -> None:
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.begin() as conn:
        insert_rows(conn, fast, ROWS)
        conn.execute(insert(slow), ROWS)
        raw_fast = conn.exec_driver_sql("SELECT * FROM fast ORDER BY id").all()
        raw_slow = conn.exec_driver_sql("SELECT * FROM slow ORDER BY id").all()
        assert raw_fast == raw_slow
        insert_tuples(conn, tuples, [tuple(r.values()) for r in ROWS])
        assert conn.exec_driver_sql("SELECT * FROM tuples ORDER BY id").all() == raw_slow
        assert conn.execute(select(fast).order_by(fast.c.id)).all() == [tuple(r.values()) for r in ROWS]


def test_partial_rows_still_get_column_defaults() -> None:
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.begin() as conn:
        insert_rows(conn, fast, [{"id": 1, "name": "a", "at": None}])
        assert conn.execute(select(fast.c.n)).scalar_one() == 7


def test_postgresql_copy_stores_what_sqlalchemy_stores() -> None:
    """The PostgreSQL path (COPY) against SQLAlchemy's own inserts, same rows read back."""
    url = os.environ.get("SMARKETING_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip(POSTGRES_MISSING)
    database = postgres_database()
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        meta.create_all(engine)
        rows = [*ROWS, {"id": 5, "name": "t\tn\nb \\ ñ", "at": datetime(2026, 1, 2), "n": 0}]
        with engine.begin() as conn:
            insert_rows(conn, fast, rows)
            conn.execute(insert(slow), rows)
            got_fast = conn.execute(select(fast).order_by(fast.c.id)).all()
            got_slow = conn.execute(select(slow).order_by(slow.c.id)).all()
            insert_tuples(conn, tuples, [tuple(r.values()) for r in rows])
            got_tuples = conn.execute(select(tuples).order_by(tuples.c.id)).all()
        assert got_fast == got_slow == got_tuples == [tuple(r.values()) for r in rows]
        with engine.begin() as conn:  # partial rows: the column default still applies
            insert_rows(conn, fast, [{"id": 9, "name": "a", "at": None}])
            assert conn.execute(select(fast.c.n).where(fast.c.id == 9)).scalar_one() == 7
    finally:
        engine.dispose()
        drop_postgres_database(database)


def test_a_tuple_short_of_a_column_is_an_error_not_a_shifted_row() -> None:
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.begin() as conn, pytest.raises((ValueError, DBAPIError)):
        insert_tuples(conn, tuples, [(1, "a", None)])
