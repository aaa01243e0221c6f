"""Follow-up discipline, scoring, vocabulary and meetings on both backends,
on small hand-computed histories."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.business_hours import ALWAYS
from domain.errors import InvalidInput
from domain.meeting import meeting_id
from domain.scoring import RULE_ACTOR
from projections.cached.scorecard_view import scorecard
from projections.models.agreement_docs import CRITERIA, PERSONA, TERMS, current_docs, doc_history
from projections.models.meetings import items_of, open_actions
from projections.models.scoring import lead_scores
from projections.models.targets import targets_for
from projections.queries.leads_query import LeadQuery, list_leads
from smarketing.bootstrap import Services
from smarketing.service.sla_terms import agreement_counts, overdue_terms, sla_in_force
from smarketing.service.terms_commands import scored_interactions
from tests.integration.attention_reference import count_attention, needs_attention
from tests.office_hours import MADRID_OFFICE


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def new_lead(svc: Services, n: int, captured: str, owner: str = "") -> str:
    lead_id = svc.app.capture_lead(
        name=f"L{n}", email=f"l{n}@example.org", source="webinar", occurred_at=at(captured)
    )
    if owner:
        svc.app.assign_owner(lead_id, owner=owner, team="sales", occurred_at=at(captured))
    return lead_id


def mql(svc: Services, lead_id: str, when: str) -> None:
    svc.app.change_stage(lead_id, to_stage="MQL", occurred_at=at(when))


def call(svc: Services, lead_id: str, when: str) -> None:
    svc.app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=at(when))


def test_breaches_count_only_deadlines_that_have_passed(services: Services) -> None:
    a = new_lead(services, 1, "2024-06-03T08:00")
    mql(services, a, "2024-06-03T09:00")
    call(services, a, "2024-06-04T12:00")  # 27 h: late
    b = new_lead(services, 2, "2024-06-10T08:00")
    mql(services, b, "2024-06-10T09:00")  # never contacted, due 06-11 09:00
    c = new_lead(services, 3, "2024-06-14T08:00")
    mql(services, c, "2024-06-14T20:00")  # never contacted, due 06-15 20:00
    d = new_lead(services, 4, "2024-06-12T08:00")
    mql(services, d, "2024-06-12T09:00")
    call(services, d, "2024-06-12T10:00")  # in time
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        now = at("2024-06-15T12:00")
        assert scorecard(conn, "2024-06", today=date(2024, 6, 15), now=now)["breaches"] == 2  # a and b
        later = at("2024-06-16T12:00")
        assert scorecard(conn, "2024-06", today=date(2024, 6, 16), now=later)["breaches"] == 3
        assert scorecard(conn, "2024-06", today=date(2024, 7, 2))["breaches"] == 3  # month over: no now


def test_business_hours_move_the_deadline_past_the_weekend(services: Services) -> None:
    services.app.set_terms("calendar", MADRID_OFFICE, "Sales works office hours")
    lead_id = new_lead(services, 5, "2024-06-07T10:00", owner="ana")  # Friday
    mql(services, lead_id, "2024-06-07T15:00")  # 17:00 Madrid: 1 business hour left on Friday
    services.app.set_target("2024-06", "follow_up_hours", "4")
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        sla = sla_in_force(conn, at("2024-06-08T12:00"), services.settings.tz)
        assert sla.follow_up_hours == 4 and not sla.calendar.every_hour_counts

        def overdue(now: str) -> int:
            groups = needs_attention(
                conn, at(now), follow_up_hours=4, attempts_per_mql=1, window_days=7, calendar=sla.calendar
            )
            return count_attention(groups)["overdue"]

        assert overdue("2024-06-09T20:00") == 0  # Sunday: the clock stopped on Friday at 18:00
        assert overdue("2024-06-10T09:59") == 0  # Monday 11:59 Madrid: due 12:00
        assert overdue("2024-06-10T10:01") == 1
        # Every hour counted (no calendar): due Friday 21:00 Madrid already.
        assert (
            count_attention(
                needs_attention(
                    conn, at("2024-06-08T12:00"), follow_up_hours=4, attempts_per_mql=1, window_days=7
                )
            )["overdue"]
            == 1
        )


def test_attention_groups_per_owner(services: Services) -> None:
    a = new_lead(services, 6, "2024-06-01T08:00", owner="ana")
    mql(services, a, "2024-06-01T09:00")
    call(services, a, "2024-06-01T10:00")  # one attempt, two were agreed
    b = new_lead(services, 7, "2024-06-05T08:00", owner="bea")
    mql(services, b, "2024-06-05T09:00")  # none
    c = new_lead(services, 8, "2024-06-05T08:00")
    mql(services, c, "2024-06-05T09:00")
    call(services, c, "2024-06-05T10:00")
    call(services, c, "2024-06-06T10:00")  # two attempts: fine
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        groups = needs_attention(
            conn,
            at("2024-06-13T12:00"),
            follow_up_hours=24,
            attempts_per_mql=2,
            window_days=7,
            calendar=ALWAYS,
        )
    summary = {
        g["owner"]: ([x["lead_id"] for x in g["overdue"]], [x["attempts"] for x in g["under_contacted"]])
        for g in groups
    }
    assert summary == {"ana": ([], [1]), "bea": ([b.replace("-", "")], [0])}


def test_a_recycled_and_requalified_lead_counts_once_per_month_from_its_new_entry(services: Services) -> None:
    lead_id = new_lead(services, 9, "2024-05-02T08:00", owner="ana")
    mql(services, lead_id, "2024-05-03T09:00")
    call(services, lead_id, "2024-05-03T10:00")
    services.app.change_stage(
        lead_id, to_stage="Disqualified", reason="No budget", occurred_at=at("2024-05-10T09:00")
    )
    services.app.change_stage(lead_id, to_stage="Recycled", occurred_at=at("2024-06-01T09:00"))
    services.app.change_stage(lead_id, to_stage="Lead", occurred_at=at("2024-06-02T09:00"))
    mql(services, lead_id, "2024-06-03T09:00")  # back, and not contacted since
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        may = scorecard(conn, "2024-05", today=date(2024, 6, 10), now=at("2024-06-10T12:00"))
        june = scorecard(conn, "2024-06", today=date(2024, 6, 10), now=at("2024-06-10T12:00"))
        assert [r["actual"] for r in may["marketing"] if r["metric"] == "mqls_delivered"] == [1]
        assert [r["actual"] for r in june["marketing"] if r["metric"] == "mqls_delivered"] == [1]
        assert (may["breaches"], june["breaches"]) == (0, 1)  # May's call does not count for June
        groups = needs_attention(
            conn, at("2024-06-08T12:00"), follow_up_hours=24, attempts_per_mql=1, window_days=7
        )
        # Overdue since June 4; its 7-day attempts window (from June 3) is still open.
        assert [(g["owner"], len(g["overdue"]), len(g["under_contacted"])) for g in groups] == [("ana", 1, 0)]


def test_a_target_revised_mid_month_grades_the_month_against_the_revision(services: Services) -> None:
    for n in range(3):
        lead_id = new_lead(services, 20 + n, "2024-05-02T08:00")
        mql(services, lead_id, f"2024-05-0{n + 3}T09:00")
    services.app.set_target("2024-05", "mqls_delivered", "4", occurred_at=at("2024-05-01T08:00"))
    services.app.set_target("2024-05", "mqls_delivered", "3", "Budget cut", at("2024-05-15T08:00"))
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        card = scorecard(conn, "2024-05", today=date(2024, 6, 1))
        assert targets_for(conn, "2024-05")["mqls_delivered"] == Decimal(3)
    row = next(r for r in card["marketing"] if r["metric"] == "mqls_delivered")
    assert (row["target"], row["actual"], row["status"]) == (Decimal(3), 3, "on_track")


def test_scores_decay_reset_on_return_and_auto_promote_is_attributed_to_the_rule(services: Services) -> None:
    app = services.app
    now = datetime.now(UTC)
    lead_id = app.capture_lead(
        name="Score", email="score@example.org", source="webinar", occurred_at=now - timedelta(days=40)
    )
    app.record_interaction(lead_id, kind="webinar", occurred_at=now - timedelta(days=30))  # 15 → 7.5
    app.record_interaction(lead_id, kind="form_submitted", occurred_at=now - timedelta(days=1))  # ≈ 19.5
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        sla = sla_in_force(conn, now, services.settings.tz)
        (row,) = lead_scores(conn, now, sla.scoring)
    assert row["score"] == pytest.approx(7.5 + 20 * 0.5 ** (1 / 30), abs=0.02)
    assert row["interactions"] == 2

    points = dict(sla.scoring.points)
    app.set_terms(
        "scoring", {"points": points, "half_life_days": 30, "threshold": 40, "mode": "auto_promote"}
    )
    app.record_interaction(lead_id, kind="meeting")  # +25: crosses 40
    lead = app.get_lead(lead_id)
    assert lead["stage"] == "MQL"
    last = app.lead_events(lead_id)[-1]
    assert last.actor == RULE_ACTOR and "threshold 40" in last.reason

    app.reject_mql(lead_id, reason="Student, not a buyer")
    assert scored_interactions(app.lead_events(lead_id)) == []
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert lead_scores(conn, now, sla.scoring) == []


def test_terms_and_vocabulary_are_versioned(services: Services) -> None:
    app = services.app
    app.set_criteria("MQL", "Fits the ICP and asked for pricing")
    with pytest.raises(InvalidInput):
        app.set_criteria("MQL", "Fits the ICP", "")  # a revision needs a reason
    app.set_criteria("MQL", "Fits the ICP and asked for a demo", "Pricing requests were students")
    app.save_persona(
        "Ops Olga", description="Head of operations", pains="Manual reports", signals="Visits pricing"
    )
    app.remove_persona("Ops Olga", reason="Merged into Finance Fran")
    app.set_terms("calendar", MADRID_OFFICE, "Office hours")
    with pytest.raises(InvalidInput):
        app.set_terms("calendar", MADRID_OFFICE | {"opens": "19:00"})
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert current_docs(conn, CRITERIA) == {"MQL": "Fits the ICP and asked for a demo"}
        assert current_docs(conn, PERSONA) == {}
        assert current_docs(conn, TERMS)["calendar"]["opens"] == "09:00"
        history = doc_history(conn, CRITERIA, PERSONA)
    assert [(h["kind"], h["key"], h["value"] is None) for h in history] == [
        ("persona", "Ops Olga", True),
        ("persona", "Ops Olga", False),
        ("criteria", "MQL", False),
        ("criteria", "MQL", False),
    ]
    assert history[2]["previous"] == "Fits the ICP and asked for pricing"
    assert history[2]["reason"] == "Pricing requests were students"


def test_meeting_action_items_stay_open_until_done(services: Services) -> None:
    app = services.app
    app.record_meeting(
        "weekly", "2026-W44", decision="Webinar leads go to Ana", action="Rewrite MQL criteria", owner="bea"
    )
    with pytest.raises(InvalidInput):
        app.record_meeting("weekly", "2026-W44", action="No owner")
    with pytest.raises(InvalidInput):
        app.record_meeting("weekly", "2026-W60", decision="x")
    services.projector.catch_up()
    first = meeting_id("weekly", "2026-W44")
    second = meeting_id("weekly", "2026-W45").hex
    with services.read_engine.connect() as conn:
        assert [(i["item"], i["text"]) for i in items_of(conn, first.hex)] == [
            ("decision", "Webinar leads go to Ana"),
            ("action", "Rewrite MQL criteria"),
        ]
        assert [a["text"] for a in open_actions(conn, except_meeting=second)] == ["Rewrite MQL criteria"]
    app.mark_action_done(first, 1, "Done in the vocabulary page")
    with pytest.raises(InvalidInput):
        app.mark_action_done(first, 1)
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert open_actions(conn, except_meeting=second) == []
        assert items_of(conn, first.hex)[1]["done_note"] == "Done in the vocabulary page"


def test_the_lead_list_overdue_filter_runs_on_the_same_calendar_as_the_dashboard(services: Services) -> None:
    services.app.set_terms("calendar", MADRID_OFFICE, "Sales works office hours")
    lead_id = new_lead(services, 6, "2024-06-07T10:00", owner="ana")  # Friday
    mql(services, lead_id, "2024-06-07T15:00")  # 17:00 Madrid
    services.app.set_target("2024-06", "follow_up_hours", "4")
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        for now, expected in (("2024-06-09T20:00", 0), ("2024-06-10T10:01", 1)):
            terms = overdue_terms(conn, at(now), services.settings.tz)
            listed = list_leads(conn, LeadQuery(overdue=True), at(now), **terms)["leads"]
            counted = agreement_counts(conn, at(now), services.settings.tz)["overdue"]
            assert len(listed) == counted == expected, now


def test_meeting_pack_counts_the_period_and_groups_reasons(services: Services) -> None:
    from smarketing.service.meeting_pack import changes

    def to_opportunity(lead_id: str, day: str) -> None:
        for stage in ("MQL", "SQL", "Opportunity"):
            services.app.change_stage(lead_id, to_stage=stage, occurred_at=at(f"{day}T09:00"))

    won, lost = new_lead(services, 1, "2024-06-01T08:00"), new_lead(services, 2, "2024-06-01T08:00")
    to_opportunity(won, "2024-06-03")
    to_opportunity(lost, "2024-06-04")
    services.app.mark_won(won, amount="1200.50", occurred_at=at("2024-06-10T09:00"))
    services.app.mark_lost(lost, reason="Price", occurred_at=at("2024-06-11T09:00"))
    for n, reason in ((3, "Not a buyer"), (4, "Too small"), (5, "Not a buyer"), (6, "Not a buyer")):
        lead_id = new_lead(services, n, "2024-06-01T08:00")
        mql(services, lead_id, "2024-06-02T09:00" if n != 6 else "2024-05-02T09:00")
        when = "2024-06-12T09:00" if n != 6 else "2024-05-12T09:00"  # lead 6: before the period
        services.app.reject_mql(lead_id, reason=reason, occurred_at=at(when))
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        sla = sla_in_force(conn, at("2024-07-01T12:00"), services.settings.tz)
        figures = changes(conn, at("2024-06-01T00:00"), at("2024-07-01T00:00"), at("2024-07-01T12:00"), sla)
    assert figures["count"] == {"mql": 5, "sql": 2, "won": 1, "lost": 1, "rejected": 3}
    assert figures["revenue"].value == Decimal("1200.50")
    assert figures["reasons"] == {
        "rejected": [{"reason": "Not a buyer", "count": 2}, {"reason": "Too small", "count": 1}],
        "lost": [{"reason": "Price", "count": 1}],
    }
