"""The smarketing domain: the shared lead lifecycle and its events.

Pure Python on the eventsourcing library: no web framework, no SQL.
"""
