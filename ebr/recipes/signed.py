"""How a recipe version and a packaging order are read back for their e-signatures.

A signature covers only what never changes once written: a version's content and hash (not its
status, which moves to approved and on), an order's fixed fields and control recipe (not its
status or batch). So a signature stays valid through the record's life and any edit of a signed
field shows (`ebr.audit.records.DEFAULT_LOADERS` registers both loaders).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Connection, select

from ebr.recipes.models import PackagingOrderRow, RecipeRow, RecipeVersionRow

VERSION_OBJECT: Final = "recipe_version"
ORDER_OBJECT: Final = "packaging_order"
VERSION_SEPARATOR: Final = "/v"


def version_object_id(recipe_id: str, version: int) -> str:
    return f"{recipe_id}{VERSION_SEPARATOR}{version}"


def load_recipe_version(conn: Connection, object_id: str) -> Mapping[str, Any] | None:
    recipe_id, _, version = object_id.rpartition(VERSION_SEPARATOR)
    if not (recipe_id and version.isdigit()):
        return None
    row = (
        conn.execute(
            select(
                RecipeVersionRow.recipe_id,
                RecipeRow.product_id,
                RecipeRow.name,
                RecipeVersionRow.version,
                RecipeVersionRow.based_on,
                RecipeVersionRow.content,
                RecipeVersionRow.content_sha256,
                RecipeVersionRow.created_at,
                RecipeVersionRow.author_user_id,
                RecipeVersionRow.author,
            )
            .join(RecipeRow, RecipeRow.id == RecipeVersionRow.recipe_id)
            .where(
                RecipeVersionRow.recipe_id == recipe_id,
                RecipeVersionRow.version == int(version),
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


ORDER_SIGNED_COLUMNS: Final = tuple(
    column
    for column in PackagingOrderRow.__table__.columns
    if column.name not in ("status", "batch_id")
)


def load_packaging_order(conn: Connection, object_id: str) -> Mapping[str, Any] | None:
    """A packaging order by its number."""
    row = (
        conn.execute(select(*ORDER_SIGNED_COLUMNS).where(PackagingOrderRow.number == object_id))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
