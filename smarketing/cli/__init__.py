"""The terminal: flask commands, backups, the projector process and demo data."""
