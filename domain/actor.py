"""Who is acting: set once per request or command, read by every event.

A ContextVar (as in the library's content-management example) keeps the
acting user out of every command's argument list while still recording it
on every event.
"""

from contextvars import ContextVar

SYSTEM_ACTOR = "system"

current_actor: ContextVar[str] = ContextVar("current_actor", default=SYSTEM_ACTOR)
