"""What recipes and packaging orders refuse, each error saying what, where and how to fix it."""

from __future__ import annotations

from ebr.errors import StoreError


class RecipeError(StoreError):
    """A recipe or its content cannot be taken or changed as asked. `field` is the content
    path at fault (e.g. `parameters[1].high`), empty when the whole request is."""

    def __init__(self, message: str, *, hint: str | None = None, field: str = "") -> None:
        super().__init__(message, hint=hint)
        self.field = field


class RecipeNotApprovedError(RecipeError):
    """The product's recipe has no approved version: nothing may be produced from it."""


class OrderError(StoreError):
    """A packaging order cannot be taken. `field` names the order field at fault."""

    def __init__(self, message: str, *, hint: str | None = None, field: str = "") -> None:
        super().__init__(message, hint=hint)
        self.field = field


class OrderConflictError(OrderError):
    """The order number, or the product's lot, is already taken by a different order.

    `differences` lists `(field, as taken, as sent now)` when the same number came with other
    values; `batch_id` is the batch of the order already taken, if it has one."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        field: str = "",
        differences: tuple[tuple[str, object, object], ...] = (),
        batch_id: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint, field=field)
        self.differences = differences
        self.batch_id = batch_id
