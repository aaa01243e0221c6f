"""What a report answers when it cannot be produced: messages for people."""

from typing import Any

from domain.errors import N_
from projections.engine.projector import Projector

UNREADABLE_EVENT = N_(
    "The event log holds an event that cannot be read at position %(position)s, so no report "
    "can be replayed past it; an administrator can run “flask audit verify” and "
    "“flask projections status”."
)


class ReportError(ValueError):
    """A report was asked for something it cannot produce; the message is for people.

    Like the domain's errors, a catalog template and its parameters: ``str()`` is the
    English text, the web page translates ``template``."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template, self.params = template, params
        super().__init__(template % params if params else template)


class ReportNotReady(ReportError):
    """The report replica is still being built (see ``budget``); ask again later."""


def refuse_if_stuck(projector: Projector) -> None:
    """A replay held at an event it cannot take would report figures that stop there
    under a later position: refuse instead, naming the position."""
    stuck = projector.stuck()
    if stuck:
        raise ReportError(UNREADABLE_EVENT, position=min(s.position for s in stuck.values()))
