"""Product master data from the MES, held against the site file.

The site file defines the products the gateway codes: their identifiers together with the
coding rules and packaging levels that use them are checked when the file is loaded and
changed under the plant's change control. The MES therefore cannot add or change a product
at run time; what it sends is compared with the site file, so that a disagreement between the
two systems is found before a batch is coded with the wrong GTIN or drug code.
"""

from __future__ import annotations

from typing import Any, Final

from config import SiteConfig
from config.site import NotConfiguredError
from gateway.opcua_server.order_json import OrderError, parse_json_object
from serialization.rules import product_to_dict

FIELDS: Final = (
    "id",
    "name",
    "gtin",
    "company_prefix",
    "nmpa_drug_id",
    "national",
    "template_values",
)


def check_product(text: str, config: SiteConfig) -> str:
    """The product's id when every field sent equals the site file's; `OrderError` otherwise."""
    data = parse_json_object(text, "product")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise OrderError(
            unknown[0],
            f"product field {unknown[0]!r} is not known; the fields are {', '.join(FIELDS)} "
            "(check its spelling)",
        )
    product_id = data.get("id")
    if not isinstance(product_id, str) or not product_id:
        raise OrderError("id", f"product field 'id' must be a non-empty string, not {product_id!r}")
    try:
        master = product_to_dict(config.product_master(product_id))
    except NotConfiguredError:
        raise OrderError(
            "id",
            f"product {product_id!r} is not in the site file; products are added there "
            "(products:, docs/site-file.md) and the gateway restarted, not over OPC UA",
            unknown=True,
        ) from None
    for name in FIELDS[1:]:
        if name in data and _normal(name, data[name]) != _normal(name, master[name]):
            raise OrderError(
                name,
                f"product {product_id!r}: {name} is {master[name]!r} in the site file, the MES "
                f"sent {data[name]!r}; the site file defines product {product_id!r}: change it "
                "there (under change control) or correct the MES",
            )
    return product_id


def _normal(name: str, value: Any) -> Any:
    if name == "gtin" and isinstance(value, str) and value.isdigit():
        return value.rjust(14, "0")
    if name == "template_values" and value is None:
        return {}
    return value
