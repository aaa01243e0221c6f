"""Domain errors: each carries a message a person can act on.

Messages are templates with named parameters (``%(name)s``) so the web layer
can translate them; ``str(error)`` is the English text. ``N_`` only marks a
template for the message catalog: the domain itself stays free of any i18n library.
"""

from typing import Any


def N_(template: str) -> str:
    return template


class DomainError(Exception):
    """A command was refused by a business rule; nothing was recorded."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


class InvalidInput(DomainError):
    def __init__(self, field: str, template: str, **params: Any) -> None:
        self.field = field
        self.message = template % params if params else template
        self.template = template
        self.params = params
        Exception.__init__(self, f"{field}: {self.message}")


class IllegalTransition(DomainError):
    pass


class LeadNotFound(DomainError):
    pass


class DuplicateEmail(DomainError):
    pass


class StaleLead(DomainError):
    """The lead changed since the form was loaded (optimistic concurrency)."""


class LostRace(StaleLead):
    """Another writer saved the lead between this command's read and its save: the
    log refused the save. A command that does not depend on the lead's state may
    simply be tried again (``smarketing.service.retrying``)."""
