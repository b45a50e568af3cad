"""The database triggers that make the audit tables append-only, and a check they are in place.

Migration 0002 creates them (the DDL lives there, frozen with the schema version). Someone with
database superuser rights can still drop or bypass them; that is what the hash chain and the
signed checkpoints are for, and `missing_triggers` lets the verifier say so.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

APPEND_ONLY_TABLES = (
    "audit_entries",
    "audit_checkpoints",
    "audit_keys",
    "e_signatures",
    "clock_readings",
    "code_transitions",
    "journal_events",
)
NEVER_DELETED_TABLES = ("users",)


def expected_triggers(dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return (
            *(f"{table}_append_only" for table in APPEND_ONLY_TABLES),
            *(f"{table}_no_truncate" for table in (*APPEND_ONLY_TABLES, *NEVER_DELETED_TABLES)),
            *(f"{table}_never_deleted" for table in NEVER_DELETED_TABLES),
        )
    return (
        *(f"{table}_no_{op}" for table in APPEND_ONLY_TABLES for op in ("update", "delete")),
        *(f"{table}_no_delete" for table in NEVER_DELETED_TABLES),
    )


def installed_triggers(conn: Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' "
                "AND c.relnamespace = to_regnamespace(current_schema())::oid"
            )
        )
    else:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    return {str(name) for (name,) in rows}


def missing_triggers(conn: Connection) -> list[str]:
    """Append-only triggers that are absent or disabled: each one is a finding for an audit."""
    present = installed_triggers(conn)
    return [name for name in expected_triggers(conn.dialect.name) if name not in present]
