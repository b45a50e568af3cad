"""A code in the forms `tracegate codes generate --format` prints."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from serialization.codes import SchemeName
from serialization.coding import IssuedCode
from serialization.gs1 import parse, sgtin_uri, sscc_uri, to_digital_link
from serialization.rules import ProductMaster


class OutputFormat(StrEnum):
    RAW = "raw"
    """The data the symbol carries, GS as the real 0x1D byte."""
    HRI = "hri"
    """The human-readable text printed beside the symbol."""
    DL = "dl"
    """GS1 Digital Link URI."""
    EPC = "epc"
    """EPC pure-identity URI (SGTIN or SSCC)."""


GS1_ONLY = (OutputFormat.DL, OutputFormat.EPC)


def formatter(
    fmt: OutputFormat, scheme: SchemeName, product: ProductMaster
) -> Callable[[IssuedCode], str]:
    """A function printing one code in `fmt`; raises ValueError when the scheme has no such form."""
    if fmt is OutputFormat.RAW:
        return lambda code: code.data
    if fmt is OutputFormat.HRI:
        return lambda code: code.hri
    if scheme not in (SchemeName.GS1, SchemeName.SSCC):
        raise ValueError(f"{scheme.value} codes have no {fmt.value} form; use raw or hri")
    if fmt is OutputFormat.DL:
        return lambda code: to_digital_link(parse(code.data))
    prefix_length = len(product.company_prefix or "")
    if not prefix_length:
        raise ValueError(f"product {product.id!r} has no GS1 company prefix for EPC URIs")
    if scheme is SchemeName.SSCC:
        return lambda code: sscc_uri(code.key[2:], prefix_length)
    return lambda code: sgtin_uri(code.key[2:16], code.serial, prefix_length)
