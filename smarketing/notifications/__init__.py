"""Notifications (issue #22): an outbox derived from the log, a scheduler for the
time-driven moments, and a sender that delivers by e-mail. See outbox.py for the
guarantees and docs/OPERATIONS.md for running it."""
