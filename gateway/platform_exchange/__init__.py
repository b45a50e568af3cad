"""Exports in the upload layouts of China's drug traceability platforms
(docs/platform-exchange.md)."""
