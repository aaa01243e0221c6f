"""The read models: one Projection each, built from the event log."""
