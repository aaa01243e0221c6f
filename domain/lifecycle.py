"""The lead lifecycle both teams agreed on: which stage may follow which.

Kept as data so that the web forms offer exactly the moves the domain accepts.
"""

from collections.abc import Iterable

from domain.errors import N_, IllegalTransition
from domain.vocabulary import FUNNEL, OPEN_STAGES, Stage

# One step forward along the funnel. Customer is reached only by winning a deal.
_NEXT = {
    Stage.LEAD: Stage.MQL,
    Stage.MQL: Stage.SQL,
    Stage.SQL: Stage.OPPORTUNITY,
    Stage.RECYCLED: Stage.LEAD,
    Stage.DISQUALIFIED: Stage.RECYCLED,
}


def funnel_rank(stage: str) -> int:
    return FUNNEL.index(Stage(stage)) if stage in FUNNEL else -1


def is_skip(from_stage: str, to_stage: str) -> bool:
    """A forward move that jumps over at least one funnel stage."""
    return from_stage in FUNNEL and to_stage in FUNNEL and funnel_rank(to_stage) > funnel_rank(from_stage) + 1


def skipped_stages(from_stage: str, to_stage: str) -> list[str]:
    if not is_skip(from_stage, to_stage):
        return []
    return [s.value for s in FUNNEL[funnel_rank(from_stage) + 1 : funnel_rank(to_stage)]]


def stages_reached(from_stage: str, to_stage: str, skipped: Iterable[str] = ()) -> list[str]:
    """The funnel stages after Lead that a move reaches, in funnel order: its target and
    the stages it skipped, all reached at the move's moment (docs/FIGURES.md, "Reaching a
    stage"). The one rule the funnel, the scorecard, the meeting packs and the report use.

    ``skipped`` is what the event states (``StageChanged`` and ``DealWon`` carry it); the
    stages between the two ranks count too, so an event that states none still reaches
    every stage it jumped over. Moves out of the funnel (Disqualified, Recycled) and back
    to Lead reach nothing.
    """
    if to_stage not in FUNNEL or to_stage == Stage.LEAD:
        return []
    implied = set(skipped) | set(skipped_stages(from_stage, to_stage)) | {to_stage}
    return [s.value for s in FUNNEL[1 : funnel_rank(to_stage) + 1] if s.value in implied]


def allowed_moves(stage: str) -> list[str]:
    """Stages reachable by a plain stage change (not by win, loss or rejection)."""
    moves: list[str] = []
    if stage in _NEXT:
        moves.append(_NEXT[Stage(stage)].value)
    if stage in FUNNEL:
        moves += [s.value for s in FUNNEL[funnel_rank(stage) + 2 : -1]]  # skips, reason required
    if stage in OPEN_STAGES:
        moves.append(Stage.DISQUALIFIED.value)
    return moves


def needs_reason(from_stage: str, to_stage: str) -> bool:
    return to_stage == Stage.DISQUALIFIED or is_skip(from_stage, to_stage)


def check_stage_change(from_stage: str, to_stage: str, reason: str) -> None:
    if to_stage not in {s.value for s in Stage}:
        raise IllegalTransition(N_("Unknown stage %(stage)s."), stage=repr(to_stage))
    if to_stage == Stage.CUSTOMER:
        raise IllegalTransition(N_("A lead becomes a Customer only by winning a deal."))
    if to_stage not in allowed_moves(from_stage):
        raise IllegalTransition(
            N_("A lead cannot move from %(from_stage)s to %(to_stage)s."),
            from_stage=from_stage,
            to_stage=to_stage,
        )
    if needs_reason(from_stage, to_stage) and not reason:
        if to_stage == Stage.DISQUALIFIED:
            raise IllegalTransition(N_("Disqualifying requires a reason."))
        raise IllegalTransition(N_("Skipping stages requires a reason."))


def check_can_win(from_stage: str, reason: str) -> None:
    if from_stage not in OPEN_STAGES or from_stage == Stage.RECYCLED:
        raise IllegalTransition(N_("A deal cannot be won for a lead in stage %(stage)s."), stage=from_stage)
    if from_stage != Stage.OPPORTUNITY and not reason:
        raise IllegalTransition(N_("Winning before the Opportunity stage requires a reason."))


def check_can_lose(from_stage: str) -> None:
    if from_stage not in (Stage.SQL, Stage.OPPORTUNITY):
        raise IllegalTransition(N_("Only an SQL or an Opportunity can be lost."))


def check_can_reject(from_stage: str) -> None:
    if from_stage != Stage.MQL:
        raise IllegalTransition(N_("Sales can reject only an MQL back to marketing."))
