"""The projector machinery: catch-up, tracking, quarantine, and the SQL plumbing every read model shares."""
