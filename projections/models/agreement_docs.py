"""Read model of the agreement's written parts: the standing terms (scoring,
calendar, meetings), the buyer personas and the MQL/SQL criteria — the current
version of each and every change to it (who, when, old → new, why)."""

import json
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, DateTime, String, Table, Text, delete, insert, select

from domain.agreement import SLAAgreement
from domain.vocabulary_book import vocabulary_change
from projections.engine.projector import Positioned, Projection
from projections.engine.schema import from_db, metadata, to_db

TERMS = "terms"
PERSONA = "persona"
CRITERIA = "criteria"

agreement_docs = Table(
    "agreement_docs",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("actor", String(100), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("position", BigInteger, nullable=False),
)

agreement_doc_history = Table(
    "agreement_doc_history",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("key", String(100), nullable=False),
    Column("value", Text),  # JSON; null when removed
    Column("previous", Text),  # JSON; null when new
    Column("reason", String(2000), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
)


def _change(event: Any) -> dict[str, Any] | None:
    if isinstance(event, SLAAgreement.TermsSet):
        return {"kind": TERMS, "key": event.section, "value": event.values, "previous": event.previous_values}
    return vocabulary_change(event)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


class AgreementDocsProjection(Projection):
    name = "agreement_docs"
    tables = (agreement_docs, agreement_doc_history)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        for position, event in events:
            change = _change(event)
            if change is None:
                continue
            kind, key = change["kind"], change["key"]
            conn.execute(
                delete(agreement_docs).where(agreement_docs.c.kind == kind, agreement_docs.c.key == key)
            )
            common = {"kind": kind, "key": key, "actor": event.actor, "occurred_at": to_db(event.occurred_at)}
            if change["value"] is not None:
                conn.execute(
                    insert(agreement_docs), [common | {"value": _json(change["value"]), "position": position}]
                )
            conn.execute(
                insert(agreement_doc_history),
                [
                    common
                    | {
                        "position": position,
                        "value": _json(change["value"]),
                        "previous": _json(change["previous"]),
                        "reason": getattr(event, "reason", "") or "",
                    }
                ],
            )


def current_docs(conn: Connection, kind: str) -> dict[str, Any]:
    """``{key: value}`` of one kind as it reads now (personas sorted by name)."""
    rows = conn.execute(
        select(agreement_docs.c.key, agreement_docs.c.value)
        .where(agreement_docs.c.kind == kind)
        .order_by(agreement_docs.c.key)
    )
    return {key: json.loads(value) for key, value in rows}


def doc_history(conn: Connection, *kinds: str, since: Any = None) -> list[dict[str, Any]]:
    """Changes of the given kinds, newest first (optionally only after ``since``)."""
    statement = select(agreement_doc_history).where(agreement_doc_history.c.kind.in_(kinds))
    if since is not None:
        statement = statement.where(agreement_doc_history.c.occurred_at >= to_db(since))
    rows = conn.execute(statement.order_by(agreement_doc_history.c.position.desc()))
    return [
        {
            "kind": r.kind,
            "key": r.key,
            "value": None if r.value is None else json.loads(r.value),
            "previous": None if r.previous is None else json.loads(r.previous),
            "reason": r.reason,
            "actor": r.actor,
            "occurred_at": from_db(r.occurred_at),
        }
        for r in rows
    ]
