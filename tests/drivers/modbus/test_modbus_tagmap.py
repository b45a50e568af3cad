"""Tag definitions, map validation and register encoding (pure, no I/O)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import UsageError
from drivers.modbus.tagmap import (
    DataType,
    Order,
    Table,
    Tag,
    TagMap,
    TagMapError,
    decode,
    encode,
)

ORDERS = st.sampled_from(list(Order))


def reg(name: str, address: int, data_type: DataType, **kw: object) -> Tag:
    return Tag(name, 1, Table.HOLDING, address, data_type, **kw)  # type: ignore[arg-type]


# --- known encodings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("byte_order", "word_order", "registers"),
    [
        (Order.BIG, Order.BIG, (0x3F80, 0x0000)),
        (Order.BIG, Order.LITTLE, (0x0000, 0x3F80)),
        (Order.LITTLE, Order.BIG, (0x803F, 0x0000)),
        (Order.LITTLE, Order.LITTLE, (0x0000, 0x803F)),
    ],
)
def test_float32_one_in_every_order(
    byte_order: Order, word_order: Order, registers: tuple[int, ...]
) -> None:
    tag = reg("f", 0, DataType.FLOAT32, byte_order=byte_order, word_order=word_order)
    assert encode(tag, 1.0) == registers
    assert decode(tag, registers) == 1.0


def test_int16_negative_and_string_padding() -> None:
    assert encode(reg("i", 0, DataType.INT16), -2) == (0xFFFE,)
    text = reg("s", 0, DataType.STRING, length=5)
    assert text.size == 3
    assert encode(text, "AB") == (0x4142, 0, 0)
    assert decode(text, (0x4142, 0x4344, 0x4500)) == "ABCDE"


def test_sizes() -> None:
    sizes = {t: reg("x", 0, t).size for t in DataType if t not in (DataType.STRING, DataType.BOOL)}
    assert sizes == {
        DataType.INT16: 1,
        DataType.UINT16: 1,
        DataType.INT32: 2,
        DataType.UINT32: 2,
        DataType.FLOAT32: 2,
        DataType.FLOAT64: 4,
    }


# --- round trips -----------------------------------------------------------------------------

INTEGER_TYPES = {
    DataType.INT16: st.integers(-(2**15), 2**15 - 1),
    DataType.UINT16: st.integers(0, 2**16 - 1),
    DataType.INT32: st.integers(-(2**31), 2**31 - 1),
    DataType.UINT32: st.integers(0, 2**32 - 1),
}


@given(
    data_type=st.sampled_from(list(INTEGER_TYPES)),
    data=st.data(),
    byte_order=ORDERS,
    word_order=ORDERS,
)
def test_integers_round_trip(
    data_type: DataType, data: st.DataObject, byte_order: Order, word_order: Order
) -> None:
    value = data.draw(INTEGER_TYPES[data_type])
    tag = reg("n", 10, data_type, byte_order=byte_order, word_order=word_order)
    registers = encode(tag, value)
    assert len(registers) == tag.size
    assert all(0 <= r <= 0xFFFF for r in registers)
    assert decode(tag, registers) == value


@given(value=st.floats(allow_nan=False, width=32), byte_order=ORDERS, word_order=ORDERS)
def test_float32_round_trip(value: float, byte_order: Order, word_order: Order) -> None:
    tag = reg("f", 0, DataType.FLOAT32, byte_order=byte_order, word_order=word_order)
    assert decode(tag, encode(tag, value)) == value


@given(value=st.floats(allow_nan=False), byte_order=ORDERS, word_order=ORDERS)
def test_float64_round_trip(value: float, byte_order: Order, word_order: Order) -> None:
    tag = reg("d", 0, DataType.FLOAT64, byte_order=byte_order, word_order=word_order)
    assert decode(tag, encode(tag, value)) == value


def test_nan_survives() -> None:
    tag = reg("f", 0, DataType.FLOAT32)
    result = decode(tag, encode(tag, math.nan))
    assert isinstance(result, float)
    assert math.isnan(result)


@given(
    text=st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=40),
    extra=st.integers(0, 9),
    byte_order=ORDERS,
    word_order=ORDERS,
)
def test_strings_round_trip(text: str, extra: int, byte_order: Order, word_order: Order) -> None:
    tag = reg(
        "s",
        0,
        DataType.STRING,
        length=max(1, len(text) + extra),
        byte_order=byte_order,
        word_order=word_order,
    )
    assert decode(tag, encode(tag, text)) == text


# --- bad values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "value", "fragment"),
    [
        (reg("u", 0, DataType.UINT16), 70000, "outside 0..65535"),
        (reg("u", 0, DataType.UINT16), -1, "outside 0..65535"),
        (reg("i", 0, DataType.INT32), 1.5, "expected an integer"),
        (reg("i", 0, DataType.INT16), True, "expected an integer"),
        (reg("f", 0, DataType.FLOAT32), "x", "expected a number"),
        (reg("f", 0, DataType.FLOAT32), 1e300, "does not fit a float32"),
        (reg("s", 0, DataType.STRING, length=3), "ABCD", "longer than 3"),
        (reg("s", 0, DataType.STRING, length=3), "é", "not ASCII"),
        (reg("s", 0, DataType.STRING, length=3), 5, "expected text"),
    ],
)
def test_bad_values_are_refused_with_the_tag_named(tag: Tag, value: object, fragment: str) -> None:
    with pytest.raises(TagMapError, match=fragment) as caught:
        encode(tag, value)  # type: ignore[arg-type]
    assert repr(tag.name) in str(caught.value)


def test_decode_wrong_register_count() -> None:
    with pytest.raises(TagMapError, match="expected 2 registers, got 1"):
        decode(reg("f", 0, DataType.FLOAT32), [1])


# --- map validation --------------------------------------------------------------------------


def test_valid_map_lookup_and_unknown_tag() -> None:
    tags = TagMap([reg("a", 0, DataType.UINT16), reg("b", 1, DataType.FLOAT32)])
    assert len(tags) == 2
    assert tags["b"].address == 1
    with pytest.raises(UsageError, match="unknown tag 'c'") as caught:
        tags.resolve(["a", "c"])
    assert caught.value.hint is not None
    assert "a, b" in caught.value.hint


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ([reg("a", 0, DataType.FLOAT32), reg("b", 1, DataType.UINT16)], "overlap on slave 1"),
        ([reg("a", 0, DataType.UINT16), reg("a", 5, DataType.UINT16)], "defined twice"),
        ([reg("a", 65535, DataType.FLOAT32)], "run past 65535"),
        ([reg("a", 70000, DataType.UINT16)], "outside 0..65535"),
        ([reg("a", 0, DataType.STRING, length=0)], "string length 0"),
        ([reg("a", 0, DataType.STRING, length=300)], "string length 300"),
        ([reg("a", 0, DataType.UINT16, length=4)], "length is only for strings"),
        ([reg("a", 0, DataType.BOOL)], "'bool' needs a coil"),
        ([Tag("a", 1, Table.COIL, 0, DataType.UINT16)], "use data type 'bool'"),
        ([Tag("a", 0, Table.COIL, 0, DataType.BOOL)], "slave id 0"),
        ([Tag("a", 248, Table.COIL, 0, DataType.BOOL)], "slave id 248"),
        ([reg(" a", 0, DataType.UINT16)], "name must be non-empty"),
    ],
)
def test_invalid_maps_name_the_problem(tags: list[Tag], fragment: str) -> None:
    with pytest.raises(TagMapError, match=fragment):
        TagMap(tags)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(TagMapError) as caught:
        TagMap([reg("a", 70000, DataType.UINT16), Tag("b", 1, Table.COIL, 0, DataType.INT16)])
    message = str(caught.value)
    assert "'a'" in message
    assert "'b'" in message


def test_same_address_in_other_table_or_slave_is_no_overlap() -> None:
    TagMap(
        [
            reg("a", 0, DataType.UINT16),
            Tag("b", 1, Table.INPUT, 0, DataType.UINT16),
            Tag("c", 2, Table.HOLDING, 0, DataType.UINT16),
        ]
    )
