"""GS1 mod-10 check digits: the codes.md §1.1 vectors and the parsers' fast check."""

from __future__ import annotations

import random

import pytest

from serialization.errors import CheckCharacterError
from serialization.gs1.checkdigit import check_digit, check_digit_ok, validate_check_digit

VECTORS = [
    ("9501234", "6", "95012346"),
    ("690123456789", "2", "6901234567892"),
    ("0950110153000", "3", "09501101530003"),
    ("1950110153000", "0", "19501101530000"),
    ("37612345000001000", "8", "376123450000010008"),
    ("10614141123456789", "7", "106141411234567897"),
]


@pytest.mark.parametrize(("body", "check", "key"), VECTORS)
def test_codes_md_vectors(body: str, check: str, key: str) -> None:
    assert check_digit(body) == check
    assert body + check == key
    assert check_digit_ok(key)
    validate_check_digit(key)


def test_china_drug_code_vector() -> None:
    assert check_digit("8690000010000") == "0"


@pytest.mark.parametrize(("body", "check", "key"), VECTORS)
def test_wrong_check_digit_is_located(body: str, check: str, key: str) -> None:
    wrong = body + str((int(check) + 1) % 10)
    assert not check_digit_ok(wrong)
    with pytest.raises(CheckCharacterError) as caught:
        validate_check_digit(wrong, field="(01)", offset=5)
    assert caught.value.position == 5 + len(wrong) - 1
    assert caught.value.expected == check


def test_fast_check_agrees_with_reference() -> None:
    rng = random.Random(7)
    for length in range(2, 20):
        for _ in range(300):
            key = "".join(rng.choice("0123456789") for _ in range(length))
            assert check_digit_ok(key) == (check_digit(key[:-1]) == key[-1]), key
