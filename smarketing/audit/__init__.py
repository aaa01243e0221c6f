"""Audit: the log chain, seals, replay and time travel, exports and erasure."""
