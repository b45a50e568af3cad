"""Scans: symbology identifiers decide whether the data is GS1."""

from __future__ import annotations

import pytest

from serialization.errors import CodeFormatError
from serialization.gs1.scan import parse_scan

DATA = "01095011015300031727050010AB-123\x1d217Q2XK9PZ4M"


@pytest.mark.parametrize("identifier", ["]d2", "]C1", "]Q3", "]e0"])
def test_gs1_symbologies_are_parsed(identifier: str) -> None:
    scan = parse_scan(identifier + DATA)
    assert scan.symbology == identifier
    assert scan.data == DATA
    assert scan.message is not None
    assert scan.message.value("21") == "7Q2XK9PZ4M"
    assert scan.error is None
    assert scan.is_gs1


@pytest.mark.parametrize("identifier", ["]d1", "]C0", "]Q1", "]E0", "]A0"])
def test_other_symbologies_are_not_gs1(identifier: str) -> None:
    scan = parse_scan(identifier + DATA)
    assert scan.symbology == identifier
    assert scan.data == DATA
    assert scan.message is None
    assert scan.error is None


def test_gs1_symbology_with_bad_data_raises_located() -> None:
    with pytest.raises(CodeFormatError) as caught:
        parse_scan("]d20109501101530004")
    assert caught.value.position == 18


def test_no_identifier_tries_gs1() -> None:
    scan = parse_scan(DATA)
    assert scan.symbology is None
    assert scan.message is not None
    assert scan.message.ais() == ("01", "17", "10", "21")


def test_no_identifier_and_not_gs1_keeps_the_error() -> None:
    scan = parse_scan("12345678901234567890")
    assert scan.symbology is None
    assert scan.data == "12345678901234567890"
    assert scan.message is None
    assert isinstance(scan.error, CodeFormatError)
    assert not scan.is_gs1


def test_bracket_without_a_valid_identifier() -> None:
    scan = parse_scan("]xx0109501101530003")
    assert scan.symbology is None
    assert scan.message is None
    assert scan.error is not None
