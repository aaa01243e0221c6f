"""Figures kept in process until their month changes, and the scorecard view that reads through them."""
