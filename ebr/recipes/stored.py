"""Recipes and their versions as read from the store, and the approved version of a product.

`approved_for_product` is what an order asks: the one version that may be produced now, or
`RecipeNotApprovedError` saying why there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from ebr.errors import NotFoundError
from ebr.recipes.content import RecipeContent, parse_content
from ebr.recipes.errors import RecipeNotApprovedError
from ebr.recipes.models import RecipeRow, RecipeVersionRow
from ebr.recipes.signed import version_object_id


@dataclass(frozen=True, slots=True)
class RecipeVersion:
    recipe_id: str
    product_id: str
    name: str
    version: int
    based_on: int | None
    status: str
    content: RecipeContent
    content_sha256: str
    created_at: datetime
    author_user_id: int | None
    author: str | None
    approved_at: datetime | None
    approved_by: str | None

    @property
    def object_id(self) -> str:
        """The id its signatures and audit entries name (`recipe_version` objects)."""
        return version_object_id(self.recipe_id, self.version)


@dataclass(frozen=True, slots=True)
class RecipeSummary:
    id: str
    product_id: str
    name: str
    latest_version: int
    latest_status: str
    approved_version: int | None


VERSION_COLUMNS = (
    RecipeVersionRow.recipe_id,
    RecipeRow.product_id,
    RecipeRow.name,
    RecipeVersionRow.version,
    RecipeVersionRow.based_on,
    RecipeVersionRow.status,
    RecipeVersionRow.content,
    RecipeVersionRow.content_sha256,
    RecipeVersionRow.created_at,
    RecipeVersionRow.author_user_id,
    RecipeVersionRow.author,
    RecipeVersionRow.approved_at,
    RecipeVersionRow.approved_by,
)


def read_versions(conn: Connection, recipe_id: str) -> list[RecipeVersion]:
    """Every version of the recipe, oldest first; `NotFoundError` for an unknown recipe."""
    rows = conn.execute(
        select(*VERSION_COLUMNS)
        .join(RecipeRow, RecipeRow.id == RecipeVersionRow.recipe_id)
        .where(RecipeVersionRow.recipe_id == recipe_id)
        .order_by(RecipeVersionRow.version)
    ).all()
    if not rows:
        known = ", ".join(conn.execute(select(RecipeRow.id).order_by(RecipeRow.id)).scalars())
        raise NotFoundError(
            f"unknown recipe {recipe_id!r}",
            hint=f"the site's recipes: {known or 'none yet'}",
        )
    return [_version(row) for row in rows]


def read_version(conn: Connection, recipe_id: str, version: int | None) -> RecipeVersion:
    """One version, the latest when `version` is None."""
    versions = read_versions(conn, recipe_id)
    if version is None:
        return versions[-1]
    for found in versions:
        if found.version == version:
            return found
    raise NotFoundError(
        f"recipe {recipe_id!r} has no version {version}",
        hint=f"its versions are 1 to {versions[-1].version}",
    )


def read_summaries(conn: Connection) -> list[RecipeSummary]:
    summaries = []
    for recipe_id in conn.execute(select(RecipeRow.id).order_by(RecipeRow.id)).scalars():
        versions = read_versions(conn, recipe_id)
        approved = [v.version for v in versions if v.status == "approved"]
        latest = versions[-1]
        summaries.append(
            RecipeSummary(
                latest.recipe_id,
                latest.product_id,
                latest.name,
                latest.version,
                latest.status,
                approved[0] if approved else None,
            )
        )
    return summaries


def approved_for_product(conn: Connection, product_id: str) -> RecipeVersion | None:
    """The product's approved version; None when the product has no recipe at all."""
    recipe_id = conn.execute(
        select(RecipeRow.id).where(RecipeRow.product_id == product_id)
    ).scalar_one_or_none()
    if recipe_id is None:
        return None
    versions = read_versions(conn, recipe_id)
    for version in versions:
        if version.status == "approved":
            return version
    latest = versions[-1]
    raise RecipeNotApprovedError(
        f"recipe {recipe_id!r} of product {product_id!r} has no approved version "
        f"(its latest, version {latest.version}, is {latest.status}); "
        "an unapproved recipe cannot be used",
        hint="its author signs the version and QA or a supervisor approves it "
        f"(`tracegate recipe sign` / `tracegate recipe approve --recipe {recipe_id} "
        f"--version {latest.version}`); then send the order again",
        field="product",
    )


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _version(row: Any) -> RecipeVersion:
    return RecipeVersion(
        recipe_id=row.recipe_id,
        product_id=row.product_id,
        name=row.name,
        version=row.version,
        based_on=row.based_on,
        status=row.status,
        content=parse_content(row.content),
        content_sha256=row.content_sha256,
        created_at=aware(row.created_at),
        author_user_id=row.author_user_id,
        author=row.author,
        approved_at=None if row.approved_at is None else aware(row.approved_at),
        approved_by=row.approved_by,
    )
