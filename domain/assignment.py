"""Who gets a new MQL: the agreement's assignment rules (pure, no I/O).

A rule list is ordered: the first rule naming the lead's source, campaign or
persona whose user is available wins; otherwise the leads go round robin among the
available sales users. "Available" (active, a sales user, not marked away) is the
caller's list; away users are thus skipped by every rule, and a named rule whose
user is away falls through to the round robin.

Round robin is derived from the log, never kept in memory: the caller passes the
last user the round robin chose (read from a read model fed by the ``rule`` on
each ``Lead.OwnerAssigned``), and the next one is the first available user after
that name in alphabetical order (wrapping around), so every process decides alike.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import N_, InvalidInput
from domain.validation import SHORT_MAX, clean_text

ROUND_ROBIN = "round_robin"
MATCHED_FIELDS = ("source", "campaign", "persona")
MAX_RULES = 50


@dataclass(frozen=True)
class Rule:
    by: str  # source | campaign | persona | round_robin
    value: str = ""
    user: str = ""

    @property
    def key(self) -> str:
        """What an assignment carries: ``round_robin`` or ``source=webinar``."""
        return ROUND_ROBIN if self.by == ROUND_ROBIN else f"{self.by}={self.value}"

    def as_dict(self) -> dict[str, str]:
        return {"by": self.by, "value": self.value, "user": self.user}


def clean_rules(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The rule list as stored: each a dict ``by``, ``value``, ``user``."""
    cleaned: list[dict[str, str]] = []
    for raw in rules:
        by = clean_text(raw.get("by"), "by", max_len=SHORT_MAX, required=True).lower()
        if by == ROUND_ROBIN:
            cleaned.append(Rule(ROUND_ROBIN).as_dict())
            continue
        if by not in MATCHED_FIELDS:
            raise InvalidInput("by", N_("unknown kind of rule: %(by)s"), by=by)
        value = clean_text(raw.get("value"), "value", max_len=SHORT_MAX, required=True).lower()
        user = clean_text(raw.get("user"), "user", max_len=SHORT_MAX, required=True)
        cleaned.append(Rule(by, value, user).as_dict())
    if len(cleaned) > MAX_RULES:
        raise InvalidInput("rules", N_("at most %(max)s rules"), max=MAX_RULES)
    return cleaned


def rules_of(stored: Iterable[Mapping[str, str]]) -> list[Rule]:
    return [Rule(r["by"], r.get("value", ""), r.get("user", "")) for r in stored]


def next_in_turn(available: Sequence[str], last: str) -> str | None:
    """The first available user after ``last`` in name order, wrapping around."""
    ordered = sorted(set(available))
    if not ordered:
        return None
    return next((user for user in ordered if user > last), ordered[0])


def choose_owner(
    rules: Sequence[Rule], lead: Mapping[str, str], available: Sequence[str], last_round_robin: str
) -> tuple[str, Rule] | None:
    """(owner, the rule that decided) for a lead with ``source``/``campaign``/``persona``;
    None when no rules are set or nobody is available."""
    if not rules:
        return None
    for rule in rules:
        if rule.by == ROUND_ROBIN:
            continue
        if str(lead.get(rule.by, "")).strip().lower() == rule.value and rule.user in available:
            return rule.user, rule
    user = next_in_turn(available, last_round_robin)
    return None if user is None else (user, Rule(ROUND_ROBIN))
