"""EPC URIs and SGTIN-96 (codes.md §1.5)."""

from __future__ import annotations

import pytest

from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.gs1.epc import (
    SGTIN96_MAX_SERIAL,
    EpcIdentity,
    decode_sgtin96,
    parse_epc_uri,
    pure_identity_uri,
    sgtin96_hex,
    sgtin_uri,
    sscc_uri,
)

SGTIN_VECTORS = [
    ("09501101530003", "7Q2XK9PZ4M", 7, "urn:epc:id:sgtin:9501101.053000.7Q2XK9PZ4M"),
    ("09501101530003", "7Q2XK9PZ4M", 9, "urn:epc:id:sgtin:950110153.0000.7Q2XK9PZ4M"),
    ("80614141123458", "12345", 7, "urn:epc:id:sgtin:0614141.812345.12345"),
    ("09501101530003", "A1/B2", 7, "urn:epc:id:sgtin:9501101.053000.A1%2FB2"),
]
SSCC_VECTORS = [
    ("376123450000010008", 7, "urn:epc:id:sscc:7612345.3000001000"),
    ("106141411234567897", 7, "urn:epc:id:sscc:0614141.1123456789"),
    ("106141411234567897", 9, "urn:epc:id:sscc:061414112.13456789"),
]


@pytest.mark.parametrize(("gtin", "serial", "prefix_length", "uri"), SGTIN_VECTORS)
def test_sgtin_uri(gtin: str, serial: str, prefix_length: int, uri: str) -> None:
    assert sgtin_uri(gtin, serial, prefix_length) == uri
    assert parse_epc_uri(uri) == EpcIdentity("sgtin", prefix_length, gtin=gtin, serial=serial)


@pytest.mark.parametrize(("sscc", "prefix_length", "uri"), SSCC_VECTORS)
def test_sscc_uri(sscc: str, prefix_length: int, uri: str) -> None:
    assert sscc_uri(sscc, prefix_length) == uri
    assert parse_epc_uri(uri) == EpcIdentity("sscc", prefix_length, sscc=sscc)


def test_every_tds_escape() -> None:
    uri = sgtin_uri("09501101530003", "\"%&/<>?'!", 7)
    assert uri.endswith(".%22%25%26%2F%3C%3E%3F'!")
    assert parse_epc_uri(uri).serial == "\"%&/<>?'!"


def test_gtin13_is_padded() -> None:
    assert sgtin_uri("6901234567892", "1", 7) == "urn:epc:id:sgtin:6901234.056789.1"


@pytest.mark.parametrize("prefix_length", [5, 13, 0])
def test_company_prefix_length_is_6_to_12(prefix_length: int) -> None:
    with pytest.raises(CodeFormatError) as caught:
        sgtin_uri("09501101530003", "1", prefix_length)
    assert caught.value.field == "company_prefix_length"
    with pytest.raises(CodeFormatError):
        sscc_uri("376123450000010008", prefix_length)


def test_keys_and_serials_are_validated() -> None:
    with pytest.raises(CheckCharacterError):
        sgtin_uri("09501101530004", "1", 7)
    with pytest.raises(CodeFormatError, match="not allowed"):
        sgtin_uri("09501101530003", "A B", 7)
    with pytest.raises(CodeFormatError, match="at most 20"):
        sgtin_uri("09501101530003", "1" * 21, 7)
    with pytest.raises(CheckCharacterError):
        sscc_uri("376123450000010009", 7)
    with pytest.raises(CodeFormatError, match="18 digits"):
        sscc_uri("37612345000001000", 7)


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("urn:epc:id:sgtin:9501101.053000", "3 parts"),
        ("urn:epc:id:sgtin:95011.0530000.1", "company prefix"),
        ("urn:epc:id:sgtin:9501101.05300.1", "indicator and item reference"),
        ("urn:epc:id:sgtin:9501101.053000.A/B", "percent-escaped"),
        ("urn:epc:id:sgtin:9501101.053000.A%41", "not an escape"),
        ("urn:epc:id:sgtin:9501101.053000.", "no value"),
        ("urn:epc:id:sscc:7612345.300000100", "extension and serial reference"),
        ("urn:epc:id:sgln:7612345.00001.0", "not an SGTIN or SSCC"),
    ],
)
def test_invalid_epc_uris(uri: str, fragment: str) -> None:
    with pytest.raises(CodeFormatError, match=fragment):
        parse_epc_uri(uri)


def test_sgtin96_vectors() -> None:
    assert sgtin96_hex("80614141123458", "6789", 7) == "3034257BF7194E4000001A85"
    tag = decode_sgtin96("3034257BF7194E4000001A85")
    assert tag == "urn:epc:tag:sgtin-96:1.0614141.812345.6789"
    other = decode_sgtin96("3074257BF7194E4000001A85")
    assert other == "urn:epc:tag:sgtin-96:3.0614141.812345.6789"
    assert pure_identity_uri(other) == "urn:epc:id:sgtin:0614141.812345.6789"
    assert parse_epc_uri(pure_identity_uri(other)).gtin == "80614141123458"


@pytest.mark.parametrize("prefix_length", range(6, 13))
def test_sgtin96_every_partition_round_trips(prefix_length: int) -> None:
    for serial in ("0", "1", "6789", str(SGTIN96_MAX_SERIAL)):
        for filter_value in (0, 1, 7):
            hex_epc = sgtin96_hex("09501101530003", serial, prefix_length, filter_value)
            tag = decode_sgtin96(hex_epc)
            assert tag.startswith(f"urn:epc:tag:sgtin-96:{filter_value}.")
            assert pure_identity_uri(tag) == sgtin_uri("09501101530003", serial, prefix_length)


@pytest.mark.parametrize("serial", ["0123", "12A", str(SGTIN96_MAX_SERIAL + 1), "", "-1", "١٢"])
def test_sgtin96_refuses_serials_it_cannot_carry(serial: str) -> None:
    with pytest.raises(CodeFormatError) as caught:
        sgtin96_hex("80614141123458", serial, 7)
    assert "SGTIN-198" in (caught.value.hint or "")
    assert caught.value.field == "serial"


def test_sgtin96_filter_value() -> None:
    with pytest.raises(CodeFormatError, match="filter"):
        sgtin96_hex("80614141123458", "1", 7, filter_value=8)


@pytest.mark.parametrize(
    ("hex_epc", "fragment"),
    [
        ("3034257BF7194E4000001A8", "24 hex"),
        ("3034257BF7194E4000001A8G", "24 hex"),
        ("3134257BF7194E4000001A85", "header"),
        ("303C257BF7194E4000001A85", "partition"),
        ("3037FFFFFC00000000000001", "too large"),
    ],
)
def test_decode_sgtin96_errors(hex_epc: str, fragment: str) -> None:
    with pytest.raises(CodeFormatError, match=fragment):
        decode_sgtin96(hex_epc)


def test_pure_identity_uri_needs_a_tag_uri() -> None:
    with pytest.raises(CodeFormatError):
        pure_identity_uri("urn:epc:id:sgtin:0614141.812345.6789")
