"""Commands that do not depend on the lead's state (a note, an interaction) are
tried again when their save loses an optimistic-concurrency race, instead of
telling the user someone else wrote at the same moment: nothing they decided on
has changed, so the next attempt on the lead as the log now holds it stores the
same thing. Bounded: after ``attempts`` the race is lost and the user is told.

Backoff with full jitter (a random wait up to a doubling cap), so processes that
collided do not collide again in lockstep.
"""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from domain.errors import LostRace

T = TypeVar("T")

# Up to ~10 s of waiting in all: 8 processes on one lead, on 2 loaded cores, needed more than 12.
ATTEMPTS = 30
FIRST_WAIT = 0.005  # seconds; the cap doubles each attempt up to MAX_WAIT
MAX_WAIT = 0.5


def retry_lost_races(
    attempt: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """``attempt()``, again after a backoff each time it raises ``LostRace``."""
    draw = (rng or random).uniform
    for tried in range(1, attempts + 1):
        try:
            return attempt()
        except LostRace:
            if tried == attempts:
                raise
            sleep(draw(0, min(MAX_WAIT, FIRST_WAIT * 2**tried)))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
