"""Web entry points: blueprints that parse, call one service, render."""
