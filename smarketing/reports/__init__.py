"""The monthly manager report: figures replayed from the event log, rendered to PDF."""
