"""A recipe agrees with the site: its levels are the product's configured levels, coded by the
same rules in the same quantities, and its lines exist.

The line codes by the site file's levels (`ebr.catalog.load_rule`); a recipe that said
otherwise would describe a batch no one produced. Checked when a version is drafted, and again
when an order copies it, since the site file may have changed in between.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from ebr.models import Line, ProductLevel
from ebr.recipes.content import RecipeContent
from ebr.recipes.errors import RecipeError


def check_against_site(conn: Connection, product_id: str, content: RecipeContent) -> None:
    configured = {
        row.level: (row.coding_rule_id, row.quantity)
        for row in conn.execute(
            select(ProductLevel.level, ProductLevel.coding_rule_id, ProductLevel.quantity).where(
                ProductLevel.product_id == product_id
            )
        )
    }
    described = {lv.level.value: (lv.coding_rule, lv.quantity) for lv in content.levels}
    for index, level in enumerate(content.levels):
        where = f"levels[{index}]"
        site = configured.get(level.level.value)
        if site is None:
            raise RecipeError(
                f"recipe {where}: product {product_id!r} has no {level.level.value} level "
                f"in the site file (its levels: {', '.join(sorted(configured)) or 'none'})",
                hint="describe only the levels the site file codes, or add the level there",
                field=where,
            )
        if (level.coding_rule, level.quantity) != site:
            raise RecipeError(
                f"recipe {where}: the site file codes product {product_id!r} level "
                f"{level.level.value} with rule {site[0]!r}, quantity {site[1]}; the recipe "
                f"says rule {level.coding_rule!r}, quantity {level.quantity}",
                hint="make the recipe match the site file (or change the site file first)",
                field=where,
            )
    missing = sorted(set(configured) - set(described))
    if missing:
        raise RecipeError(
            f"recipe levels leave out {', '.join(missing)}, which the site file codes for "
            f"product {product_id!r}",
            hint="describe every coded level of the product",
            field="levels",
        )
    known = set(conn.execute(select(Line.id).where(Line.id.in_(content.lines))).scalars())
    for index, line in enumerate(content.lines):
        if line not in known:
            raise RecipeError(
                f"recipe lines[{index}] {line!r} is not a line of this site",
                hint="name a line from the site file",
                field=f"lines[{index}]",
            )
