"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ebr.models import Base
from ebr.schema import current_revision, head_revision, upgrade


def test_migrations_match_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)


def test_every_code_is_unique_by_a_database_constraint(engine: Engine) -> None:
    unique = inspect(engine).get_unique_constraints("codes")
    assert {"key"} in [set(constraint["column_names"]) for constraint in unique]
