"""Protective triggers of the EBR tables to remove, as someone with database rights could, for
the verifier and doctor tests."""

from __future__ import annotations

from sqlalchemy import Connection, text

REMOVED = {
    "sqlite": (
        ("ebr_entries", "ebr_entries_no_update"),
        ("ebr_exceptions", "ebr_exceptions_settled"),
        ("ebr_checks", "ebr_checks_fixed"),
        ("recipes", "recipes_no_delete"),
        ("packaging_orders", "packaging_orders_fixed_columns"),
        ("decoction_attachments", "decoction_attachments_no_update"),
    ),
    "postgresql": (
        ("ebr_entries", "ebr_entries_append_only"),
        ("ebr_exceptions", "ebr_exceptions_settled"),
        ("ebr_deviations", "ebr_deviations_no_truncate"),
        ("recipe_versions", "recipe_versions_never_deleted"),
        ("packaging_orders", "packaging_orders_fixed_columns"),
        ("decoction_attachments", "decoction_attachments_append_only"),
    ),
}
"""One trigger of each kind the migrations 0008-0010 install, per database."""


def remove_trigger(conn: Connection, table: str, name: str) -> None:
    """Drop it (SQLite) or disable it (PostgreSQL), as someone with database rights could."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {name}"))
    else:
        conn.execute(text(f"DROP TRIGGER {name}"))
