"""Figures as of a log position are replayed once per process and store: the
same figures come back without a replay, a later position replays again, and
a caller changing what it got does not change what the next one gets."""

from datetime import UTC, datetime

import pytest

from smarketing.audit import as_of
from smarketing.bootstrap import Services


def test_figures_at_a_position_are_replayed_once(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    replays: list[int] = []
    replay = as_of._replayed

    def counted(svc: Services, at: datetime, mode: str, position: int) -> dict:
        replays.append(position)
        return replay(svc, at, mode, position)

    monkeypatch.setattr(as_of, "_replayed", counted)
    lead = services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    services.app.change_stage(lead, to_stage="MQL")
    at = datetime.now(UTC)
    first = as_of.figures_as_of(services, at)
    first["lead"] = "added by a caller"  # as the CLI does
    again = as_of.figures_as_of(services, at)
    assert replays == [first["position"]]
    assert "lead" not in again and again == {k: v for k, v in first.items() if k != "lead"}
    assert again["scorecard"]["mqls"] == 1

    services.app.change_stage(lead, to_stage="SQL")
    later = as_of.figures_as_of(services, datetime.now(UTC))
    assert later["position"] > first["position"] and replays == [first["position"], later["position"]]
    assert later["scorecard"]["sqls"] == 1 and again["scorecard"].get("sqls", 0) == 0
    assert as_of.figures_as_of(services, at) == again and len(replays) == 2
