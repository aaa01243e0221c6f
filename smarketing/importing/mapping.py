"""Column mappings: which CSV column feeds which field, plus per-source rules.

A mapping is a small JSON object (or one of the presets below)::

    {"kind": "leads", "source_system": "crm-2024",
     "columns": {"key": "Id", "name": "Full name", "email": "E-mail", "captured_at": "Created"},
     "defaults": {"source": "unknown"}}

Lead ids are ``uuid5(source system, source key)``, so the same row imported twice
maps to the same lead and is skipped the second time. When no ``key`` column is
mapped, the e-mail address is the key.

The Olist presets (public "Marketing Funnel by Olist" data) decide:

- MQLs carry no name or e-mail: the name is "Olist MQL <first 8 of mql_id>" and the
  e-mail "<mql_id>@olist.invalid" (``.invalid`` is reserved, so it can never reach
  anybody); capture time = ``first_contact_date`` (midnight in the chosen zone),
  source = ``origin`` (empty -> "unknown"), landing page = ``landing_page_id``,
  external key = ``mql_id``; each lead then moves to MQL at the same time.
- Closed deals: owner = ``sr_id`` (team sales) at the won time, then the deal is won
  from MQL (a skip, reason "Imported closed deal") at ``won_date``, in BRL.
  ``declared_monthly_revenue`` is what the seller declared, and is 0 for 797 of
  842 deals. Rejecting those rows would drop 95 % of the customers, and inventing
  an amount would falsify revenue, so a zero or empty amount is imported as a win
  whose amount the source did not record (unknown, not 0) and listed as a data-quality
  warning: customer counts are exact, Olist revenue is the sum of the declared amounts.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.errors import N_
from domain.vocabulary import Stage, Team
from smarketing.importing.messages import Message

LEAD_FIELDS = (
    "key",
    "name",
    "email",
    "phone",
    "company",
    "source",
    "campaign",
    "landing_page",
    "persona",
    "captured_at",
)
DEAL_FIELDS = ("key", "owner", "team", "stage", "stage_at", "won_at", "amount", "currency")
FIELDS = {"leads": LEAD_FIELDS, "deals": DEAL_FIELDS}
# Stages a history row may name; Customer is reached only through won_at + amount.
HISTORY_STAGES = (Stage.MQL.value, Stage.SQL.value, Stage.OPPORTUNITY.value, Stage.CUSTOMER.value)
MISSING_AMOUNT_RULES = ("reject", "unknown")


class MappingError(Exception):
    """The mapping itself is unusable (unknown field, missing column, bad rule)."""

    def __init__(self, template: str, **params: Any) -> None:
        self.message = Message(template, params)
        super().__init__(str(self.message))


@dataclass(frozen=True)
class Mapping:
    kind: str
    source_system: str = "csv"
    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    name_template: str = ""  # "{key}" and "{key8}" are replaced, for sources without names
    email_template: str = ""
    initial_stage: str = ""  # "MQL": move each captured lead there at its capture time
    currency: str = "EUR"
    missing_amount: str = "reject"
    deal_reason: str = "Imported closed deal"
    name: str = "custom"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def column(self, target: str) -> str:
        return self.columns.get(target, "")


PRESETS: dict[str, Mapping] = {
    "olist-mqls": Mapping(
        name="olist-mqls",
        kind="leads",
        source_system="olist",
        columns={
            "key": "mql_id",
            "captured_at": "first_contact_date",
            "landing_page": "landing_page_id",
            "source": "origin",
        },
        defaults={"source": "unknown"},
        name_template="Olist MQL {key8}",
        email_template="{key}@olist.invalid",
        initial_stage=Stage.MQL.value,
    ),
    "olist-deals": Mapping(
        name="olist-deals",
        kind="deals",
        source_system="olist",
        columns={
            "key": "mql_id",
            "owner": "sr_id",
            "won_at": "won_date",
            "amount": "declared_monthly_revenue",
        },
        defaults={"team": Team.SALES.value},
        currency="BRL",
        missing_amount="unknown",
    ),
    "leads": Mapping(
        name="leads",
        kind="leads",
        columns={f: f for f in LEAD_FIELDS},
        defaults={"source": "import"},
    ),
    "deals": Mapping(name="deals", kind="deals", columns={f: f for f in DEAL_FIELDS}),
}


def from_json(data: Any, kind: str | None = None) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(N_("A mapping must be a JSON object."))
    known = set(Mapping.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise MappingError(N_("Unknown mapping setting(s): %(names)s."), names=", ".join(unknown))
    data = dict(data)
    data.setdefault("kind", kind or "")
    for name in ("columns", "defaults"):
        value = data.get(name, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise MappingError(N_("%(name)s must map field names to text."), name=repr(name))
    for name in set(data) - {"columns", "defaults"}:
        if not isinstance(data[name], str):
            raise MappingError(N_("%(name)s must be text."), name=repr(name))
    mapping = Mapping(**data)
    validate(mapping, kind)
    return mapping


def load(spec: str, kind: str) -> Mapping:
    """A preset name, or the path of a JSON file."""
    if spec in PRESETS:
        mapping = PRESETS[spec]
        validate(mapping, kind)
        return mapping
    path = Path(spec)
    if not path.is_file():
        raise MappingError(
            N_("%(spec)s is neither a preset (%(presets)s) nor a JSON file."),
            spec=repr(spec),
            presets=", ".join(PRESETS),
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        unreadable = N_("Cannot read the mapping %(spec)s: %(error)s")
        raise MappingError(unreadable, spec=spec, error=str(error)) from None
    return from_json(data, kind)


def validate(mapping: Mapping, kind: str | None = None) -> None:
    if mapping.kind not in FIELDS:
        raise MappingError(N_("'kind' must be 'leads' or 'deals'."))
    if kind and mapping.kind != kind:
        other_kind = N_("This mapping is for %(kind)s, not for %(asked)s.")
        raise MappingError(other_kind, kind=mapping.kind, asked=kind)
    allowed = FIELDS[mapping.kind]
    for name in (*mapping.columns, *mapping.defaults):
        if name not in allowed:
            raise MappingError(
                N_("Unknown field %(name)s for %(kind)s; known: %(known)s."),
                name=repr(name),
                kind=mapping.kind,
                known=", ".join(allowed),
            )
    if not mapping.source_system.strip():
        raise MappingError(N_("'source_system' must not be empty."))
    if mapping.missing_amount not in MISSING_AMOUNT_RULES:
        rules = ", ".join(MISSING_AMOUNT_RULES)
        raise MappingError(N_("'missing_amount' must be one of %(rules)s."), rules=rules)
    if mapping.initial_stage not in ("", Stage.MQL.value):
        raise MappingError(N_("'initial_stage' may only be MQL (or empty)."))
    has = set(mapping.columns) | set(mapping.defaults)
    if mapping.kind == "leads":
        if "key" not in mapping.columns and "email" not in mapping.columns:
            raise MappingError(N_("Map a 'key' column or an 'email' column: one identifies each lead."))
        if "name" not in has and not mapping.name_template:
            raise MappingError(N_("Map a 'name' column (or give a name_template)."))
        if "email" not in has and not mapping.email_template:
            raise MappingError(N_("Map an 'email' column (or give an email_template)."))
        if "source" not in has:
            raise MappingError(N_("Map a 'source' column or give a default source."))
    else:
        if "key" not in mapping.columns:
            raise MappingError(N_("Map the 'key' column that names each lead in its source system."))
        if not {"owner", "stage", "won_at"} & set(mapping.columns):
            raise MappingError(N_("Map at least one of 'owner', 'stage' or 'won_at'."))


GENERIC = ("leads", "deals")  # presets that map each field to a column of the same name


def fit_to_header(mapping: Mapping, header: list[str]) -> Mapping:
    """The generic presets use the columns a file has; others must match exactly."""
    if mapping.name in GENERIC:
        columns = {k: v for k, v in mapping.columns.items() if v in header}
        mapping = Mapping(**(mapping.to_json() | {"columns": columns}))
        validate(mapping)
    check_header(mapping, header)
    return mapping


def check_header(mapping: Mapping, header: list[str]) -> None:
    missing = [column for column in mapping.columns.values() if column not in header]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise MappingError(N_("The file has no column(s) %(columns)s."), columns=names)
