"""Child process for tests/integration/test_notes_under_contention.py: add notes to
one lead as fast as it can, from its own application (its own cache and connections).

    python note_writer.py DATABASE_URL LEAD_ID COUNT

Prints "ready", waits for a line on stdin (so every writer starts at once), then
prints how many notes it stored.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smarketing.bootstrap import bootstrap
from smarketing.settings import Settings


def main(url: str, lead_id: str, count: int) -> None:
    services = bootstrap(Settings(url))
    services.app.get_lead(lead_id)  # warm: the lead is in this process's cache, as in a worker
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        if i % 2:
            services.app.record_interaction(lead_id, kind="call", channel="phone", details=f"nota {i}")
        else:
            services.app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", note=f"nota {i}")
    print(count, flush=True)
    services.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
