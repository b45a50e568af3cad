"""Harnesses for the OPC UA server's method arguments: the conversion of each method's input
Variants and the JSON texts DownloadOrder and UpdateProduct take. A bad call must be refused
with `MethodCallError` (a Bad status naming the argument) or `OrderError` (naming the field)."""

from __future__ import annotations

import functools
import struct
from datetime import date
from pathlib import Path
from typing import Any

from asyncua import ua

from config import SiteConfig
from config.loader import load_site
from fuzz.bytes_input import require, split_fields, text_of
from gateway.opcua_server.calls import MethodCallError, _converted
from gateway.opcua_server.methods import ORDERS_METHODS, RECORDS_METHODS
from gateway.opcua_server.order_json import OrderError, parse_order
from gateway.opcua_server.product_check import check_product

METHODS = (*RECORDS_METHODS, *ORDERS_METHODS)
SITE_FILE = Path(__file__).resolve().parent.parent / "config" / "examples" / "site-minimal.yaml"


@functools.cache
def site_config() -> SiteConfig:
    return load_site(SITE_FILE)


def _variant(piece: bytes) -> ua.Variant:
    """One input Variant of a type and value chosen by `piece`, as a client may send it."""
    kind, body = (piece[0] % 9, piece[1:]) if piece else (0, b"")
    number = int.from_bytes(body[:8].ljust(8, b"\0"), "big", signed=True)
    values: list[tuple[Any, ua.VariantType]] = [
        (None, ua.VariantType.Null),
        (number, ua.VariantType.Int64),
        (number & 0xFFFFFFFF, ua.VariantType.UInt32),
        (number & 0xFFFFFFFFFFFFFFFF, ua.VariantType.UInt64),
        (bool(number & 1), ua.VariantType.Boolean),
        (text_of(body), ua.VariantType.String),
        (None, ua.VariantType.String),
        (struct.unpack(">d", body[:8].ljust(8, b"\0"))[0], ua.VariantType.Double),
        (bytes(body), ua.VariantType.ByteString),
    ]
    value, variant_type = values[kind]
    return ua.Variant(value, variant_type)


def fuzz_opcua_arguments(data: bytes) -> None:
    """Each method's inputs, from 0 to one more than it takes, of any type and value."""
    spec = METHODS[data[0] % len(METHODS)] if data else METHODS[0]
    pieces = data[1:].split(b"\xfe")[: len(spec.inputs) + 1]
    try:
        _converted(spec, tuple(_variant(piece) for piece in pieces))
    except MethodCallError as refused:
        require(refused.message, refused)
        require(refused.status, refused)


def fuzz_opcua_order_json(data: bytes) -> None:
    """The JSON of DownloadOrder and UpdateProduct, checked against the site file."""
    order_text, product_text = (text_of(part) for part in split_fields(data, 2))
    config = site_config()
    try:
        parse_order(order_text, config, date(2026, 6, 1))
    except OrderError as error:
        require(error.message, error)
    try:
        check_product(product_text, config)
    except OrderError as error:
        require(error.message, error)
