"""The read side: plain figures and lists read from the read models for pages, exports and reports."""
