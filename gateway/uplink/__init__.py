"""Uplinks: the outbox fed from the journal, and one dispatcher per destination sending it
upward (EPCIS 2.0 REST capture, MQTT, a PostgreSQL site database)."""
