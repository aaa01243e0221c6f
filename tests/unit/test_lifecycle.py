"""The lead lifecycle both teams agreed on, checked move by move.

The expected rules below are written out independently of ``domain.lifecycle``
so that a change to the lifecycle table that breaks the agreement fails here.
"""

import itertools
import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import lifecycle
from domain.errors import DomainError, IllegalTransition, InvalidInput
from domain.lead import Lead
from domain.vocabulary import Stage

LEAD, MQL, SQL, OPP = Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY
CUSTOMER, DISQ, RECYCLED = Stage.CUSTOMER, Stage.DISQUALIFIED, Stage.RECYCLED
ALL_STAGES = list(Stage)
ALL_PAIRS = list(itertools.product(ALL_STAGES, ALL_STAGES))

# --- the agreed rules, spelled out --------------------------------------

ONE_STEP = {(LEAD, MQL), (MQL, SQL), (SQL, OPP), (DISQ, RECYCLED), (RECYCLED, LEAD)}
SKIPS = {
    (LEAD, SQL): ["MQL"],
    (LEAD, OPP): ["MQL", "SQL"],
    (MQL, OPP): ["SQL"],
}
OPEN = {LEAD, MQL, SQL, OPP, RECYCLED}
DISQUALIFY = {(s, DISQ) for s in OPEN}
ACCEPTED_WITHOUT_REASON = ONE_STEP
ACCEPTED_WITH_REASON = ONE_STEP | set(SKIPS) | DISQUALIFY
# Winning a deal: from an Opportunity, or earlier with a reason; these are the stages skipped.
WIN_SKIPS = {OPP: [], SQL: ["Opportunity"], MQL: ["SQL", "Opportunity"], LEAD: ["MQL", "SQL", "Opportunity"]}


# --- building leads in a given stage by legal moves only -------------------

_PATHS: dict[Stage, list[Callable[[Lead], None]]] = {
    LEAD: [],
    MQL: [lambda lead: lead.change_stage("MQL")],
    SQL: [lambda lead: lead.change_stage("MQL"), lambda lead: lead.change_stage("SQL")],
    OPP: [
        lambda lead: lead.change_stage("MQL"),
        lambda lead: lead.change_stage("SQL"),
        lambda lead: lead.change_stage("Opportunity"),
    ],
    CUSTOMER: [
        lambda lead: lead.change_stage("MQL"),
        lambda lead: lead.change_stage("SQL"),
        lambda lead: lead.change_stage("Opportunity"),
        lambda lead: lead.win_deal("1000.00", "EUR"),
    ],
    DISQ: [lambda lead: lead.change_stage("Disqualified", reason="student, no budget")],
    RECYCLED: [
        lambda lead: lead.change_stage("Disqualified", reason="no budget this year"),
        lambda lead: lead.change_stage("Recycled"),
    ],
}


def new_lead() -> Lead:
    return Lead.capture(uuid.uuid4(), name="Ada Lovelace", email="ada@example.com", source="webinar")


def lead_in(stage: Stage) -> Lead:
    """A lead brought to ``stage`` by legal moves, its pending events already collected."""
    lead = new_lead()
    for move in _PATHS[stage]:
        move(lead)
    assert lead.stage == stage
    lead.collect_events()
    return lead


def assert_refused_without_trace(lead: Lead, command: Callable[[], None], error: type[DomainError]) -> None:
    before = lead.as_dict()
    with pytest.raises(error):
        command()
    assert lead.collect_events() == []
    assert lead.as_dict() == before


def accepts_change(stage: Stage, to_stage: Stage) -> bool:
    lead = lead_in(stage)
    try:
        lead.change_stage(to_stage.value, reason="because")
    except IllegalTransition:
        return False
    return True


# --- every pair of stages, with and without a reason ----------------------


@pytest.mark.parametrize(("from_stage", "to_stage"), ALL_PAIRS, ids=lambda s: str(s))
def test_a_stage_change_without_a_reason_is_accepted_only_for_a_single_step(from_stage, to_stage):
    lead = lead_in(from_stage)
    if (from_stage, to_stage) in ACCEPTED_WITHOUT_REASON:
        lead.change_stage(to_stage.value)
        [changed] = lead.collect_events()
        assert isinstance(changed, Lead.StageChanged)
        assert (changed.from_stage, changed.to_stage) == (from_stage.value, to_stage.value)
        assert changed.skipped == []
        assert changed.reason == ""
        assert lead.stage == to_stage
        assert lead.stage_entered_at == changed.occurred_at
    else:
        assert_refused_without_trace(lead, lambda: lead.change_stage(to_stage.value), IllegalTransition)


@pytest.mark.parametrize(("from_stage", "to_stage"), ALL_PAIRS, ids=lambda s: str(s))
def test_a_stage_change_with_a_reason_follows_the_agreed_lifecycle(from_stage, to_stage):
    lead = lead_in(from_stage)
    reason = "met at the trade fair, budget confirmed"
    if (from_stage, to_stage) in ACCEPTED_WITH_REASON:
        lead.change_stage(to_stage.value, reason=reason)
        [changed] = lead.collect_events()
        assert isinstance(changed, Lead.StageChanged)
        assert (changed.from_stage, changed.to_stage) == (from_stage.value, to_stage.value)
        assert changed.reason == reason
        assert changed.skipped == SKIPS.get((from_stage, to_stage), [])
        assert lead.stage == to_stage
        assert lead.last_reason == reason
    else:
        assert_refused_without_trace(
            lead, lambda: lead.change_stage(to_stage.value, reason=reason), IllegalTransition
        )


@pytest.mark.parametrize(("from_stage", "to_stage"), sorted(SKIPS) + sorted(DISQUALIFY), ids=str)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_skipping_or_disqualifying_with_a_blank_reason_is_refused(from_stage, to_stage, blank):
    lead = lead_in(from_stage)
    assert_refused_without_trace(
        lead, lambda: lead.change_stage(to_stage.value, reason=blank), IllegalTransition
    )


@pytest.mark.parametrize("from_stage", ALL_STAGES, ids=str)
def test_nobody_becomes_a_customer_by_a_plain_stage_change(from_stage):
    lead = lead_in(from_stage)
    assert_refused_without_trace(
        lead, lambda: lead.change_stage("Customer", reason="signed the contract"), IllegalTransition
    )


@pytest.mark.parametrize("unknown", ["Won", "lead", "mql", "", " MQL", "Kunde"])
def test_an_unknown_stage_name_is_refused(unknown):
    lead = lead_in(LEAD)
    assert_refused_without_trace(lead, lambda: lead.change_stage(unknown, reason="x"), IllegalTransition)


def test_a_disqualified_lead_comes_back_only_through_recycling():
    lead = lead_in(DISQ)
    for stage in (LEAD, MQL, SQL, OPP):
        assert_refused_without_trace(
            lead, lambda s=stage: lead.change_stage(s.value, reason="changed their mind"), IllegalTransition
        )
    lead.change_stage("Recycled")
    lead.change_stage("Lead")
    assert lead.stage == LEAD
    assert [e.to_stage for e in lead.collect_events()] == ["Recycled", "Lead"]


def test_a_stage_change_reason_with_a_nul_character_is_invalid_input():
    lead = lead_in(LEAD)
    with pytest.raises(InvalidInput) as refused:
        lead.change_stage("Disqualified", reason="bad\x00reason")
    assert refused.value.field == "reason"
    assert lead.collect_events() == []


# --- the moves offered are exactly the moves accepted ----------------------


@pytest.mark.parametrize("stage", ALL_STAGES, ids=str)
def test_allowed_moves_offers_exactly_the_stages_change_stage_accepts(stage):
    accepted = [to for to in ALL_STAGES if accepts_change(stage, to)]
    offered = lifecycle.allowed_moves(stage.value)
    assert sorted(offered) == sorted(s.value for s in accepted)
    assert len(offered) == len(set(offered)), "no stage offered twice"
    assert lead_in(stage).allowed_moves() == offered


def test_allowed_moves_matches_the_agreed_table():
    for stage in ALL_STAGES:
        expected = {to.value for (frm, to) in ACCEPTED_WITH_REASON if frm == stage}
        assert set(lifecycle.allowed_moves(stage.value)) == expected, stage


def test_a_customer_and_the_moves_after_winning_are_final():
    assert lifecycle.allowed_moves("Customer") == []
    assert lead_in(CUSTOMER).as_dict()["allowed_moves"] == []


@pytest.mark.parametrize(("from_stage", "to_stage"), ALL_PAIRS, ids=str)
def test_needs_reason_and_skipped_stages_agree_with_the_rules(from_stage, to_stage):
    pair = (from_stage, to_stage)
    if pair in ACCEPTED_WITH_REASON:
        assert lifecycle.needs_reason(from_stage.value, to_stage.value) == (pair in SKIPS or to_stage == DISQ)
    if to_stage == CUSTOMER:
        expected = WIN_SKIPS.get(from_stage, [])
    else:
        expected = SKIPS.get(pair, [])
    assert lifecycle.skipped_stages(from_stage.value, to_stage.value) == expected


# --- sales rejects an MQL back to marketing --------------------------------


@pytest.mark.parametrize("stage", ALL_STAGES, ids=str)
def test_sales_can_reject_only_an_mql_back_to_marketing(stage):
    lead = lead_in(stage)
    reason = "no budget, just researching"
    if stage == MQL:
        lead.reject_mql(reason)
        [rejected] = lead.collect_events()
        assert isinstance(rejected, Lead.MQLRejected)
        assert (rejected.from_stage, rejected.to_stage, rejected.reason) == ("MQL", "Lead", reason)
        assert lead.stage == LEAD
        assert lead.last_reason == reason
    else:
        assert_refused_without_trace(lead, lambda: lead.reject_mql(reason), IllegalTransition)


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_rejecting_an_mql_needs_a_reason(blank):
    lead = lead_in(MQL)
    before = lead.as_dict()
    with pytest.raises(InvalidInput) as refused:
        lead.reject_mql(blank)
    assert refused.value.field == "reason"
    assert lead.collect_events() == []
    assert lead.as_dict() == before


def test_a_rejected_mql_can_be_qualified_again():
    lead = lead_in(MQL)
    lead.reject_mql("wrong persona")
    lead.change_stage("MQL")
    assert lead.stage == MQL


# --- winning a deal ---------------------------------------------------------


@pytest.mark.parametrize("stage", ALL_STAGES, ids=str)
def test_a_deal_is_won_from_an_opportunity_without_a_reason_only(stage):
    lead = lead_in(stage)
    if stage == OPP:
        lead.win_deal("2500.00", "EUR")
        [won] = lead.collect_events()
        assert isinstance(won, Lead.DealWon)
        assert (won.from_stage, won.to_stage, won.skipped, won.reason) == ("Opportunity", "Customer", [], "")
        assert lead.stage == CUSTOMER
    else:
        assert_refused_without_trace(lead, lambda: lead.win_deal("2500.00", "EUR"), IllegalTransition)


@pytest.mark.parametrize("stage", ALL_STAGES, ids=str)
def test_winning_early_needs_a_reason_and_records_the_skipped_stages(stage):
    lead = lead_in(stage)
    reason = "signed on the first call"
    if stage in WIN_SKIPS:
        lead.win_deal("99.90", "usd", reason=reason)
        [won] = lead.collect_events()
        assert isinstance(won, Lead.DealWon)
        assert won.from_stage == stage.value
        assert won.to_stage == "Customer"
        assert won.skipped == WIN_SKIPS[stage]
        assert won.reason == reason
        assert (lead.stage, str(lead.won_amount), lead.currency) == ("Customer", "99.90", "USD")
    else:
        assert_refused_without_trace(
            lead, lambda: lead.win_deal("99.90", "USD", reason=reason), IllegalTransition
        )


@pytest.mark.parametrize("stage", [LEAD, MQL, SQL], ids=str)
def test_winning_early_with_a_blank_reason_is_refused(stage):
    lead = lead_in(stage)
    assert_refused_without_trace(lead, lambda: lead.win_deal("10", reason="   "), IllegalTransition)


# --- losing a deal ----------------------------------------------------------


@pytest.mark.parametrize("stage", ALL_STAGES, ids=str)
def test_only_an_sql_or_an_opportunity_can_be_lost_and_it_ends_disqualified(stage):
    lead = lead_in(stage)
    reason = "went with a competitor"
    if stage in (SQL, OPP):
        lead.lose_deal(reason)
        [lost] = lead.collect_events()
        assert isinstance(lost, Lead.DealLost)
        assert (lost.from_stage, lost.to_stage, lost.reason) == (stage.value, "Disqualified", reason)
        assert lead.stage == DISQ
        assert lead.allowed_moves() == ["Recycled"]
    else:
        assert_refused_without_trace(lead, lambda: lead.lose_deal(reason), IllegalTransition)


@pytest.mark.parametrize("blank", ["", "  ", None])
def test_losing_a_deal_needs_a_reason(blank):
    lead = lead_in(OPP)
    before = lead.as_dict()
    with pytest.raises(InvalidInput) as refused:
        lead.lose_deal(blank)
    assert refused.value.field == "reason"
    assert lead.collect_events() == []
    assert lead.as_dict() == before


# --- a random walk through the lifecycle never breaks the rules -------------

_COMMANDS = st.one_of(
    st.tuples(st.just("change"), st.sampled_from(ALL_STAGES), st.sampled_from(["", "why not"])),
    st.tuples(st.just("reject"), st.just(None), st.just("wrong persona")),
    st.tuples(st.just("win"), st.just(None), st.sampled_from(["", "fast close"])),
    st.tuples(st.just("lose"), st.just(None), st.just("competitor")),
)


def _run(lead: Lead, command: tuple) -> None:
    name, stage, reason = command
    if name == "change":
        lead.change_stage(stage.value, reason=reason)
    elif name == "reject":
        lead.reject_mql(reason)
    elif name == "win":
        lead.win_deal("10.00", reason=reason)
    else:
        lead.lose_deal(reason)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_COMMANDS, max_size=25))
def test_a_random_walk_either_records_one_event_or_nothing(commands):
    lead = new_lead()
    lead.collect_events()
    for command in commands:
        before = lead.as_dict()
        offered = set(lead.allowed_moves())
        try:
            _run(lead, command)
        except DomainError:
            assert lead.collect_events() == []
            assert lead.as_dict() == before
            if command[0] == "change" and command[2]:
                assert command[1].value not in offered
        else:
            [recorded] = lead.collect_events()
            assert recorded.from_stage == before["stage"]
            assert lead.stage == recorded.to_stage
            if command[0] == "change":
                assert command[1].value in offered
