"""The SLA agreement and how it is kept: terms, money, meetings, the dashboard and reports."""
