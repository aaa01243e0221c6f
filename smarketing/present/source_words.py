"""The vocabulary's sources and campaigns for pages, forms, imports and the API:
choices with labels (never keys), the new sources waiting for a manager, and the
resolver that turns what someone typed into the vocabulary's key."""

from typing import Any

from flask import Flask
from sqlalchemy import Connection, func, select

from domain.sources import BUILT_IN, SourceResolver
from projections.engine import distinct
from projections.models.lead_summary import lead_summary
from projections.queries.source_merges import CAMPAIGN, MERGE, SOURCE, counted_as, merges, vocabulary_docs
from smarketing.extensions import services
from smarketing.present import labels


def vocabulary_words(conn: Connection) -> dict[str, dict[str, dict[str, str]]]:
    """Accepted sources and labelled campaigns (labels.source_label / campaign_label read these)."""
    return {"source": vocabulary_docs(conn, SOURCE), "campaign": vocabulary_docs(conn, CAMPAIGN)}


def known_sources(conn: Connection) -> dict[str, dict[str, str]]:
    """Every known source: ``{key: {es, en, sourced_by}}``, built-in first."""
    known = {key: {"es": w.es, "en": w.en, "sourced_by": w.sourced_by} for key, w in BUILT_IN.items()}
    for key, words in vocabulary_docs(conn, SOURCE).items():
        known.setdefault(key, words)
    return known


def labelled(keys: list[str], kind: str = "source") -> list[tuple[str, str]]:
    """(key, label in the reader's language), sorted by label."""
    return sorted(((k, labels.label(kind, k)) for k in keys), key=lambda kv: kv[1].casefold())


def source_choices(conn: Connection, present: list[str] | None = None) -> list[tuple[str, str]]:
    """A filter's or a form's sources as (key, label): merged ones under their target.

    ``present``: the sources the filtered data holds (a filter offers those only);
    None: every known source (a form)."""
    if present is None:
        return labelled(list(known_sources(conn)))
    merged = merges(conn)
    return labelled(sorted({counted_as(merged, key) for key in present}))


def campaign_choices(campaigns: list[str]) -> list[tuple[str, str]]:
    return labelled(campaigns, "campaign")


def new_sources(conn: Connection) -> list[dict[str, Any]]:
    """Sources the leads carry that the vocabulary neither knows nor merged, with their lead counts."""
    known, merged = known_sources(conn), merges(conn)
    waiting = [
        s for s in distinct.distinct_values(conn, lead_summary.c.source) if s not in known and s not in merged
    ]
    if not waiting:
        return []
    counts: dict[str, int] = dict(
        conn.execute(
            select(lead_summary.c.source, func.count())
            .where(lead_summary.c.source.in_(waiting))
            .group_by(lead_summary.c.source)
        ).all()
    )
    return [
        {"key": key, "label": labels.source_label(key), "leads": int(counts.get(key, 0))} for key in waiting
    ]


def campaigns(conn: Connection) -> list[str]:
    """The campaigns the leads carry (loose index scan)."""
    return distinct.distinct_values(conn, lead_summary.c.campaign)


def resolver() -> SourceResolver:
    """The vocabulary as it reads now, with the campaigns leads already carry."""
    svc = services()
    with svc.read_engine.connect() as conn:
        known = campaigns(conn)
    return svc.app.source_resolver(known)


# --- the vocabulary page (smarketing.web.sla.agreement_pages) --------------------------------

SOURCE_KINDS = (SOURCE, MERGE, CAMPAIGN)  # their changes in the vocabulary's history
SOURCE_PARTS = ("source-accept", "source-merge", "campaign")  # the page's forms


def vocabulary_context(conn: Connection) -> dict[str, Any]:
    """Known sources with both labels and team, new ones waiting, merges, and campaigns."""
    merged = merges(conn)
    lead_campaigns = campaigns(conn)
    labels_of = vocabulary_docs(conn, CAMPAIGN)
    return {
        "sources": [
            {
                "key": key,
                "builtin": key in BUILT_IN,
                "merged_in": sorted(k for k, v in merged.items() if v == key),
            }
            | words
            for key, words in known_sources(conn).items()
        ],
        "new_sources": new_sources(conn),
        "campaigns": [
            {"name": name, "labels": labels_of.get(name)} for name in sorted({*lead_campaigns, *labels_of})
        ],
    }


def typed(form: Any) -> dict[str, str]:
    """What one of the page's source or campaign forms holds (shown again on error)."""
    return {
        k: str(form.get(k, "")).strip()
        for k in ("key", "label_es", "label_en", "sourced_by", "into", "reason")
    }


def write(app: Any, part: str, fields: dict[str, str]) -> None:
    """Record one of the page's source or campaign forms: an event on the vocabulary."""
    typed = {"es": fields["label_es"], "en": fields["label_en"]}
    if part == "source-accept":
        app.accept_source(fields["key"], typed, fields["sourced_by"] or "marketing", fields["reason"])
    elif part == "source-merge":
        app.merge_source(fields["key"], fields["into"], fields["reason"])
    else:
        app.label_campaign(fields["key"], typed, fields["reason"])


def init_app(app: Flask) -> None:
    def load() -> dict[str, dict[str, dict[str, str]]]:
        with services(app).read_engine.connect() as conn:
            return vocabulary_words(conn)

    def form_sources() -> list[tuple[str, str]]:
        with services(app).read_engine.connect() as conn:
            return source_choices(conn)

    def form_campaigns() -> list[str]:
        with services(app).read_engine.connect() as conn:
            return campaigns(conn)

    app.extensions[labels.VOCABULARY_LOADER] = load
    app.jinja_env.globals["known_source_choices"] = form_sources
    app.jinja_env.globals["known_campaigns"] = form_campaigns
    app.jinja_env.globals["campaign_label"] = labels.campaign_label
