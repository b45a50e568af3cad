"""The database triggers that protect GMP records and the audit evidence, and a check they are
in place.

The migrations create them (the DDL lives there, frozen with each schema version): append-only
tables refuse UPDATE and DELETE; never-deleted tables refuse DELETE; of those, the tables whose
rows are settled once (migration 0008) or whose columns are fixed when written (migration 0009)
also refuse the updates that would change what must not change; PostgreSQL also refuses
TRUNCATE. The tables of the EBR packages come from their models modules, so a table added there
is expected here too; this module knows only the names the migrations give the triggers.
Someone with database superuser rights can still drop or bypass them; that is what the hash
chain and the signed checkpoints are for, and `missing_triggers` lets the verifier say so.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ebr.decoction.models import APPEND_ONLY_TABLES as DECOCTION_TABLES
from ebr.execution.models import APPEND_ONLY_TABLES as EXECUTION_APPEND_ONLY
from ebr.execution.models import SETTLING_COLUMNS
from ebr.recipes.models import APPEND_ONLY_TABLES as RECIPE_APPEND_ONLY
from ebr.recipes.models import CHANGING_COLUMNS

APPEND_ONLY_TABLES = (
    "audit_entries",
    "audit_checkpoints",
    "audit_keys",
    "e_signatures",
    "clock_readings",
    "code_transitions",
    "journal_events",
    "record_acknowledgements",
    *EXECUTION_APPEND_ONLY,
    *RECIPE_APPEND_ONLY,
    *DECOCTION_TABLES,
)
"""UPDATE and DELETE refused (migrations 0002-0005, 0008-0010)."""
NEVER_DELETED_TABLES = (
    "users",
    "sites",
    "coding_rules",
    "products",
    "lines",
    "serial_pools",
    "imports",
    "batches",
    "allocations",
    "codes",
    *SETTLING_COLUMNS,
    *CHANGING_COLUMNS,
)
"""DELETE refused; rows may change (migrations 0002, 0003, 0008, 0009)."""
GUARDED_UPDATES = {
    **dict.fromkeys(SETTLING_COLUMNS, ("settled", "fixed")),
    **dict.fromkeys(CHANGING_COLUMNS, ("fixed_columns",)),
}
"""Never-deleted tables whose updates are limited too, and the suffixes of the triggers that
limit them (the same on both databases)."""


def expected_triggers(dialect: str) -> tuple[str, ...]:
    guards = tuple(
        f"{table}_{suffix}" for table, names in GUARDED_UPDATES.items() for suffix in names
    )
    if dialect == "postgresql":
        return (
            *(f"{table}_append_only" for table in APPEND_ONLY_TABLES),
            *(f"{table}_no_truncate" for table in (*APPEND_ONLY_TABLES, *NEVER_DELETED_TABLES)),
            *(f"{table}_never_deleted" for table in NEVER_DELETED_TABLES),
            *guards,
        )
    return (
        *(f"{table}_no_{op}" for table in APPEND_ONLY_TABLES for op in ("update", "delete")),
        *(f"{table}_no_delete" for table in NEVER_DELETED_TABLES),
        *guards,
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
    """Protective triggers that are absent or disabled: each one is a finding for an audit."""
    present = installed_triggers(conn)
    return [name for name in expected_triggers(conn.dialect.name) if name not in present]
