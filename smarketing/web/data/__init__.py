"""Data in and out and its checks: CSV import, exports, the form-capture API, data quality, audit."""
