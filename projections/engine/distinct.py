"""DISTINCT values of an indexed column by a loose index scan.

Why: ``SELECT DISTINCT owner FROM lead_summary`` reads every index entry, on
either backend, in time that grows with the leads (and the lead list asks for
three columns).
The recursive CTE below jumps from one value to the next through the index
instead: one index probe per distinct value (a dozen owners, a few sources),
on SQLite and PostgreSQL alike.
"""

from sqlalchemy import Column, Connection, text


def distinct_values(conn: Connection, column: Column, *, skip_empty: bool = True) -> list[str]:
    """Sorted distinct non-null values of ``column`` (without "" unless asked)."""
    table, name = column.table.name, column.name  # trusted: from our own Table objects
    floor = "> ''" if skip_empty else "IS NOT NULL"
    sql = text(
        f"WITH RECURSIVE v(x) AS ("
        f" SELECT (SELECT MIN({name}) FROM {table} WHERE {name} {floor})"
        f" UNION ALL"
        f" SELECT (SELECT MIN({name}) FROM {table} WHERE {name} > v.x) FROM v WHERE v.x IS NOT NULL"
        f") SELECT x FROM v WHERE x IS NOT NULL"
    )
    return [row[0] for row in conn.execute(sql)]
