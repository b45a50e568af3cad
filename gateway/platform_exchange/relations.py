"""A batch's codes and aggregation relations as the code-relation upload file of China's drug
traceability platforms (docs/platform-exchange.md: the layout, its source and what is assumed).

The file is built from the store, checked against `relations.xsd` and against the rules an XSD
cannot state (every parent before its children, a parent one layer above its child) before
anything is written; an invalid file is never written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Final

from lxml import etree
from sqlalchemy import Engine

from ebr.errors import NotFoundError, StoreError
from ebr.trace import BatchCode, BatchOrigin, batch_codes, batch_origin
from serialization.lifecycle import BatchPhase
from serialization.rules import PackagingLevel
from serialization.states import CodeState

EXPORTABLE_PHASES: Final = frozenset({BatchPhase.RECONCILED.value, BatchPhase.RELEASED.value})
PRODUCT_STATES: Final = frozenset(
    state.label for state in (CodeState.COMMISSIONED, CodeState.RELEASED, CodeState.INACTIVE)
)
"""Codes that became product and were not destroyed: recalled ones (Inactive) included."""
LEVEL_ORDER: Final = tuple(PackagingLevel)
"""Smallest first: unit, bundle, case, pallet."""
DATA_TYPE: Final = "relation"
VERSION: Final = "1.0"


class PlatformExportError(StoreError):
    """The batch cannot be exported as it is; nothing was written."""


@dataclass(frozen=True, slots=True)
class RelationFile:
    data: bytes
    codes: int
    layers: dict[str, int]
    """Level → packLayer."""


@dataclass(frozen=True, slots=True)
class ExportOptions:
    created: datetime
    """The file's creation time, in the site's time zone."""
    enterprise_code: str | None = None
    """The platform's code for the enterprise (manCode); the site's USCC when None."""
    operator: str | None = None


def export_relations(engine: Engine, batch_id: int, options: ExportOptions) -> RelationFile:
    origin = batch_origin(engine, batch_id)
    if origin is None:
        raise NotFoundError(f"unknown batch {batch_id}", hint="check the batch id")
    if origin.status not in EXPORTABLE_PHASES:
        raise PlatformExportError(
            f"batch {batch_id} (lot {origin.lot}) is {origin.status}: its relations are "
            "uploaded once packing is over (reconciled or released)",
            hint="complete and reconcile the batch first",
        )
    codes = [code for code in batch_codes(engine, batch_id) if code.state in PRODUCT_STATES]
    if not codes:
        raise PlatformExportError(
            f"batch {batch_id} (lot {origin.lot}) has no code that became product",
            hint="a batch with no accepted unit has nothing to upload",
        )
    layers = _layers(codes)
    root = _document(origin, _ordered(codes, layers), layers, options)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    problems = relation_problems(data)
    if problems:
        raise PlatformExportError(
            f"the relation file of batch {batch_id} does not validate: {problems[0]}",
            hint="this is a bug in tracegate's exporter; report it with the batch id",
        )
    return RelationFile(data, len(codes), layers)


def relation_problems(data: bytes) -> list[str]:
    """What is wrong with a relation file: XSD errors, then order and layer errors."""
    try:
        document = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    schema = _schema()
    if not schema.validate(document):
        return [f"line {e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]
    return _order_problems(document.iterfind("Product/Batch/Code"))


@cache
def _schema() -> etree.XMLSchema:
    text = resources.files("gateway.platform_exchange").joinpath("relations.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(text))


def _layers(codes: Iterable[BatchCode]) -> dict[str, int]:
    present = {code.level for code in codes}
    levels = [level.value for level in LEVEL_ORDER if level.value in present]
    unknown = present - set(levels)
    if unknown:
        raise PlatformExportError(
            f"codes of unknown packaging level {sorted(map(str, unknown))}",
            hint="every code of a batch is allocated at unit, bundle, case or pallet level",
        )
    return {level: layer for layer, level in enumerate(levels, start=1)}


def _ordered(codes: list[BatchCode], layers: dict[str, int]) -> list[BatchCode]:
    """Top layer first, each layer in allocation order, so every parent precedes its children."""
    return sorted(codes, key=lambda code: -layers[str(code.level)])


def _document(
    origin: BatchOrigin, codes: list[BatchCode], layers: dict[str, int], options: ExportOptions
) -> etree._Element:
    product_code = origin.product.nmpa_drug_id or origin.product.gtin
    if product_code is None:
        raise PlatformExportError(
            f"product {origin.product.id} has neither an NMPA drug id nor a GTIN",
            hint="add the product's 药品标识码 (nmpa_drug_id) or its GTIN in the site file",
        )
    root = etree.Element(
        "DataList",
        corpName=origin.manufacturer.company_name,
        manCode=options.enterprise_code or origin.manufacturer.uscc,
        dataType=DATA_TYPE,
        version=VERSION,
        createTime=options.created.strftime("%Y-%m-%d %H:%M:%S"),
    )
    product = etree.SubElement(
        root,
        "Product",
        productCode=product_code,
        productName=origin.product.name,
        cascade=str(len(layers)),
    )
    batch = etree.SubElement(product, "Batch", batchNo=origin.lot)
    if origin.production_date is not None:
        batch.set("produceDate", origin.production_date.isoformat())
    if origin.expiry is not None:
        batch.set("expireDate", origin.expiry.isoformat())
    if options.operator:
        batch.set("operator", options.operator)
    batch.set("oprDate", options.created.date().isoformat())
    batch.set("count", str(len(codes)))
    exported = {code.code for code in codes}
    for code in codes:
        element = etree.SubElement(
            batch, "Code", curCode=code.code, packLayer=str(layers[str(code.level)])
        )
        if code.parent is not None and code.parent in exported:
            element.set("parentCode", code.parent)
    return root


def _order_problems(codes: Iterable[etree._Element]) -> list[str]:
    layer_of: dict[str, int] = {}
    problems: list[str] = []
    for element in codes:
        code, layer = str(element.get("curCode")), int(str(element.get("packLayer")))
        parent = element.get("parentCode")
        if parent is not None:
            parent_layer = layer_of.get(parent)
            if parent_layer is None:
                problems.append(f"line {element.sourceline}: {code} comes before its parent")
            elif parent_layer <= layer:
                problems.append(
                    f"line {element.sourceline}: {code} (layer {layer}) is in {parent} of "
                    f"layer {parent_layer}, not a higher one"
                )
        layer_of[code] = layer
    return problems
