"""Master batch records (packaging recipes): versions, two-person approval, and the control
recipe a packaging order copies (`docs/ebr.md`).

- `ebr.recipes.content`: what a version holds, read from JSON and hashed;
- `ebr.recipes.master`: `Recipes`, drafting, signing, approving and retiring versions;
- `ebr.recipes.stored`: versions as read back, and the approved version of a product;
- `ebr.recipes.site_match`: a recipe agrees with the site's product levels and lines;
- `ebr.recipes.signed`: how a version and an order are read back for their signatures;
- `ebr.recipes.models`, `ebr.recipes.errors`: the tables (migration 0009) and the refusals;
- `ebr.orders`: packaging orders, which copy the approved version as their control recipe.

The package itself imports nothing: `ebr.models` loads `ebr.recipes.models` while the signature
modules may still be loading.
"""
