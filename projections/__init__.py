"""Read models built from the event log, each tracking its own log position."""
