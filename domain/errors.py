"""Domain errors: each carries a message a person can act on."""


class DomainError(Exception):
    """A command was refused by a business rule; nothing was recorded."""


class InvalidInput(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class IllegalTransition(DomainError):
    pass


class LeadNotFound(DomainError):
    pass


class DuplicateEmail(DomainError):
    pass


class StaleLead(DomainError):
    """The lead changed since the form was loaded (optimistic concurrency)."""
