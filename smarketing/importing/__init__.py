"""CSV imports of leads and of their later history (see mapping.py for the rules)."""
