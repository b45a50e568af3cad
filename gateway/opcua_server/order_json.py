"""A packaging order as the MES sends it (a JSON object), checked against the site file.

The site file is the authority on products, lines and which line may run which product; the
order only picks among them. Every refusal names the field at fault and how to fix it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from config import SiteConfig
from config.site import NotConfiguredError

REQUIRED: Final = ("product", "lot", "line", "planned_quantity")
OPTIONAL: Final = ("expiry", "production_date")
MAX_LOT_LENGTH: Final = 20
"""GS1 AI (10) holds at most 20 characters; the other schemes print no more."""
MAX_PLANNED_QUANTITY: Final = 100_000_000
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


class OrderError(Exception):
    """The order cannot be taken: `field` is the JSON key at fault ("" for the whole order);
    `unknown` is set when it names a product or line the site does not have."""

    def __init__(self, field: str, message: str, *, unknown: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.unknown = unknown


@dataclass(frozen=True, slots=True)
class Order:
    product: str
    lot: str
    line: str
    planned_quantity: int
    expiry: date | None
    """None only for a product without shelf life whose codes carry no expiry."""
    production_date: date


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise OrderError(
            "",
            f"the {what} is not JSON: {error.msg} at line {error.lineno} column {error.colno}; "
            "send one JSON object (docs/opcua.md)",
        ) from None
    except (ValueError, RecursionError) as error:
        raise OrderError(
            "",
            f"the {what} cannot be read: {str(error)[:120]}; send one JSON object with numbers "
            "of at most 4300 digits, nested at most a few hundred levels (docs/opcua.md)",
        ) from None
    if not isinstance(value, dict):
        raise OrderError("", f"the {what} must be a JSON object, not {type(value).__name__}")
    return value


def parse_order(text: str, config: SiteConfig, today: date) -> Order:
    """The order in `text`, its expiry computed from the product's shelf life when not given."""
    data = parse_json_object(text, "order")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise OrderError(
            unknown[0],
            f"order field {unknown[0]!r} is not known; the fields are "
            f"{', '.join(REQUIRED + OPTIONAL)} (check its spelling)",
        )
    for name in REQUIRED:
        if name not in data:
            raise OrderError(name, f"order field {name!r} is missing; it is required")
    product = _text(data, "product")
    line = _text(data, "line")
    _check_product_on_line(config, product, line)
    lot = _lot(data)
    quantity = _quantity(data)
    produced = _date(data, "production_date") or today
    expiry = _date(data, "expiry")
    if expiry is None:
        try:
            expiry = config.expiry_for(product, produced)
        except NotConfiguredError:
            expiry = None
    if expiry is not None and expiry <= produced:
        raise OrderError(
            "expiry",
            f"order expiry {expiry.isoformat()} is not after its production_date "
            f"{produced.isoformat()}; correct the dates",
        )
    if expiry is not None and expiry < today:
        raise OrderError(
            "expiry",
            f"order expiry {expiry.isoformat()} has passed (today is {today.isoformat()}); "
            "expired product is not packed: correct the expiry",
        )
    return Order(product, lot, line, quantity, expiry, produced)


def _check_product_on_line(config: SiteConfig, product: str, line: str) -> None:
    try:
        config.product(product)
    except NotConfiguredError:
        known = ", ".join(p.id for p in config.products) or "none"
        raise OrderError(
            "product",
            f"order product {product!r} is not in the site file (its products: {known}); "
            "send one of them, or add the product to the site file",
            unknown=True,
        ) from None
    try:
        allowed = config.product_ids_on_line(line)
    except NotConfiguredError:
        known = ", ".join(x.id for x in config.lines) or "none"
        raise OrderError(
            "line",
            f"order line {line!r} is not in the site file (its lines: {known}); send one of them",
            unknown=True,
        ) from None
    if product not in allowed:
        raise OrderError(
            "line",
            f"line {line!r} may not run product {product!r} (it runs {', '.join(allowed)}); "
            "send a line that runs it, or add the product to the line in the site file",
        )


def _text(data: dict[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str) or not value.strip():
        raise OrderError(name, f"order field {name!r} must be a non-empty string, not {value!r}")
    return value


def _lot(data: dict[str, Any]) -> str:
    lot = _text(data, "lot")
    if len(lot) > MAX_LOT_LENGTH or any(c.isspace() or not c.isprintable() for c in lot):
        raise OrderError(
            "lot",
            f"order lot {lot!r} must be 1-{MAX_LOT_LENGTH} printable characters without "
            "spaces; correct the lot number",
        )
    return lot


def _quantity(data: dict[str, Any]) -> int:
    value = data["planned_quantity"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise OrderError(
            "planned_quantity",
            f"order planned_quantity must be a whole number, not {value!r}",
        )
    if not 0 < value <= MAX_PLANNED_QUANTITY:
        raise OrderError(
            "planned_quantity",
            f"order planned_quantity {value} must be between 1 and {MAX_PLANNED_QUANTITY}",
        )
    return value


def _date(data: dict[str, Any], name: str) -> date | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise OrderError(
        name, f"order {name} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-05-31"
    )
