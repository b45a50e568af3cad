"""The line runtime: per-unit serialization, reject control, aggregation, batch lifecycle."""
