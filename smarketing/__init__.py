"""Smarketing: the application around the domain (services, web, CLI, reports)."""
