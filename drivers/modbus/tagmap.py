"""Modbus tag maps: definitions, validation, register encoding and read planning (sans-IO).

A tag names one value in one table of one slave. Bits (coils, discrete inputs) are always
`bool`; registers hold 16/32-bit integers, float32/64 or fixed-length ASCII strings, with the
byte order inside each register and the word order across registers as the device uses them.

The read planner merges tags of the same slave and table into as few requests as the protocol
allows (≤ 125 registers, ≤ 2000 bits per request), bridging gaps of up to `max_gap` unused
addresses: reading a few unused registers is far cheaper than another round trip.
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from drivers.base import TagScalar, UsageError

MAX_READ_REGISTERS = 125
MAX_READ_BITS = 2000
MAX_WRITE_REGISTERS = 123
MAX_ADDRESS = 0xFFFF
MAX_STRING_LENGTH = 2 * MAX_WRITE_REGISTERS


class Table(StrEnum):
    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING = "holding"
    INPUT = "input"

    @property
    def is_bit(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE_INPUT)

    @property
    def writable(self) -> bool:
        return self in (Table.COIL, Table.HOLDING)


class DataType(StrEnum):
    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"


class Order(StrEnum):
    """Byte order inside a register, or word order across registers."""

    BIG = "big"
    LITTLE = "little"


_STRUCT_CODES: Mapping[DataType, str] = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.FLOAT32: "f",
    DataType.FLOAT64: "d",
}

_INTEGER_RANGES: Mapping[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
}


class TagMapError(UsageError):
    """A tag definition or a tag map is wrong; the message names the tag and the fix."""


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    slave: int
    table: Table
    address: int
    data_type: DataType
    length: int = 0
    """Characters of a STRING tag (two per register); unused for other types."""
    byte_order: Order = Order.BIG
    word_order: Order = Order.BIG

    @property
    def size(self) -> int:
        """Registers (or bits, for bit tables) the tag occupies."""
        if self.data_type is DataType.STRING:
            return max(1, math.ceil(self.length / 2))
        if self.data_type is DataType.BOOL:
            return 1
        return struct.calcsize(_STRUCT_CODES[self.data_type]) // 2

    @property
    def end(self) -> int:
        """One past the last address the tag occupies."""
        return self.address + self.size

    def problems(self) -> list[str]:
        """Everything wrong with this tag on its own, as sentences an engineer can act on."""
        where = f"tag {self.name!r}"
        found: list[str] = []
        if not self.name or self.name.strip() != self.name:
            found.append(f"{where}: the name must be non-empty without surrounding spaces")
        if not 1 <= self.slave <= 247:
            found.append(f"{where}: slave id {self.slave} is outside 1..247 (0 is broadcast)")
        if self.table.is_bit and self.data_type is not DataType.BOOL:
            found.append(
                f"{where}: a {self.table.value} holds one bit; use data type 'bool', "
                f"not {self.data_type.value!r}"
            )
        if not self.table.is_bit and self.data_type is DataType.BOOL:
            found.append(
                f"{where}: 'bool' needs a coil or discrete input; a {self.table.value} register "
                "holds a number or text"
            )
        if self.data_type is DataType.STRING and not 1 <= self.length <= MAX_STRING_LENGTH:
            found.append(
                f"{where}: string length {self.length} is outside 1..{MAX_STRING_LENGTH} "
                "characters (set length to the characters the device reserves)"
            )
        if self.data_type is not DataType.STRING and self.length:
            found.append(f"{where}: length is only for strings; remove it")
        if not 0 <= self.address <= MAX_ADDRESS:
            found.append(f"{where}: address {self.address} is outside 0..{MAX_ADDRESS}")
        elif self.end - 1 > MAX_ADDRESS:
            found.append(
                f"{where}: {self.size} registers from address {self.address} run past {MAX_ADDRESS}"
            )
        return found


class TagMap(Mapping[str, Tag]):
    """A validated set of tags, by name. Construction fails with every problem listed."""

    def __init__(self, tags: Iterable[Tag]) -> None:
        tag_list = list(tags)
        found: list[str] = []
        by_name: dict[str, Tag] = {}
        for tag in tag_list:
            found.extend(tag.problems())
            if tag.name in by_name:
                found.append(f"tag {tag.name!r} is defined twice; tag names must be unique")
            by_name[tag.name] = tag
        found.extend(_overlaps(tag_list))
        if found:
            raise TagMapError(
                "invalid Modbus tag map:\n  " + "\n  ".join(found),
                hint="fix the listed tags in the device's register map",
            )
        self._tags = by_name

    def __getitem__(self, name: str) -> Tag:
        try:
            return self._tags[name]
        except KeyError:
            raise TagMapError(
                f"unknown tag {name!r}", hint=f"known tags: {', '.join(sorted(self._tags))}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._tags)

    def __len__(self) -> int:
        return len(self._tags)

    def resolve(self, names: Sequence[str]) -> list[Tag]:
        return [self[name] for name in names]


def _overlaps(tags: Sequence[Tag]) -> list[str]:
    groups: dict[tuple[int, Table], list[Tag]] = defaultdict(list)
    for tag in tags:
        groups[(tag.slave, tag.table)].append(tag)
    found = []
    for (slave, table), group in groups.items():
        group.sort(key=lambda t: t.address)
        for before, after in pairwise(group):
            if after.address < before.end:
                found.append(
                    f"tags {before.name!r} ({table.value} {before.address}..{before.end - 1}) "
                    f"and {after.name!r} ({table.value} {after.address}..{after.end - 1}) "
                    f"overlap on slave {slave}"
                )
    return found


# --- encoding --------------------------------------------------------------------------------


def encode(tag: Tag, value: TagScalar) -> tuple[int, ...]:
    """The register values that represent `value` for `tag` (raises `TagMapError` if it can't)."""
    where = f"tag {tag.name!r} ({tag.data_type.value})"
    if tag.table.is_bit:
        raise TagMapError(f"{where}: bits are not encoded into registers")
    if tag.data_type is DataType.STRING:
        if not isinstance(value, str):
            raise TagMapError(f"{where}: expected text, got {type(value).__name__}")
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise TagMapError(f"{where}: {value!r} is not ASCII text") from None
        if len(raw) > tag.length:
            raise TagMapError(f"{where}: {value!r} is longer than {tag.length} characters")
        raw = raw.ljust(tag.size * 2, b"\x00")
    else:
        raw = _pack_number(tag, value, where)
    return _bytes_to_registers(raw, tag)


def decode(tag: Tag, registers: Sequence[int]) -> TagScalar:
    """The value of `tag` from its registers (exactly `tag.size` of them)."""
    if tag.table.is_bit:
        raise TagMapError(f"tag {tag.name!r}: bits are not decoded from registers")
    if len(registers) != tag.size:
        raise TagMapError(f"tag {tag.name!r}: expected {tag.size} registers, got {len(registers)}")
    words = list(registers)
    if tag.word_order is Order.LITTLE:
        words.reverse()
    raw = b"".join(_word_bytes(word, tag.byte_order) for word in words)
    if tag.data_type is DataType.STRING:
        return raw[: tag.length].rstrip(b"\x00").decode("ascii", errors="replace")
    value: int | float = struct.unpack(">" + _STRUCT_CODES[tag.data_type], raw)[0]
    return value


def _pack_number(tag: Tag, value: TagScalar, where: str) -> bytes:
    code = _STRUCT_CODES[tag.data_type]
    if tag.data_type in (DataType.FLOAT32, DataType.FLOAT64):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TagMapError(f"{where}: expected a number, got {type(value).__name__}")
        try:
            return struct.pack(">" + code, float(value))
        except OverflowError:
            raise TagMapError(f"{where}: {value!r} does not fit a float32") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TagMapError(f"{where}: expected an integer, got {type(value).__name__}")
    low, high = _INTEGER_RANGES[tag.data_type]
    if not low <= value <= high:
        raise TagMapError(f"{where}: {value} is outside {low}..{high}")
    return struct.pack(">" + code, value)


def _bytes_to_registers(raw: bytes, tag: Tag) -> tuple[int, ...]:
    words = [
        int.from_bytes(raw[i : i + 2], "big" if tag.byte_order is Order.BIG else "little")
        for i in range(0, len(raw), 2)
    ]
    if tag.word_order is Order.LITTLE:
        words.reverse()
    return tuple(words)


def _word_bytes(word: int, byte_order: Order) -> bytes:
    if not 0 <= word <= 0xFFFF:
        raise TagMapError(f"register value {word} is not a 16-bit word")
    return word.to_bytes(2, "big" if byte_order is Order.BIG else "little")


# --- read planning ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One Modbus read: `count` registers (or bits) from `address`, covering `tags`."""

    slave: int
    table: Table
    address: int
    count: int
    tags: tuple[Tag, ...]

    def slice_for(self, tag: Tag) -> slice:
        return slice(tag.address - self.address, tag.end - self.address)


def plan_reads(
    tags: Iterable[Tag],
    *,
    max_gap: int = 0,
    max_registers: int = MAX_READ_REGISTERS,
    max_bits: int = MAX_READ_BITS,
) -> list[ReadRequest]:
    """Group `tags` into reads: same slave and table, gaps ≤ `max_gap`, within the size limits.

    Every tag lands in exactly one request; each request is as long as the protocol allows.
    """
    if max_gap < 0:
        raise TagMapError(f"max_gap must be 0 or more, got {max_gap}")
    if not 1 <= max_registers <= MAX_READ_REGISTERS or not 1 <= max_bits <= MAX_READ_BITS:
        raise TagMapError(
            f"request limits must be 1..{MAX_READ_REGISTERS} registers and 1..{MAX_READ_BITS} "
            f"bits, got {max_registers} and {max_bits}"
        )
    groups: dict[tuple[int, Table], dict[str, Tag]] = defaultdict(dict)
    for tag in tags:
        groups[(tag.slave, tag.table)][tag.name] = tag
    plan: list[ReadRequest] = []
    for (slave, table), unique in sorted(groups.items()):
        limit = max_bits if table.is_bit else max_registers
        ordered = sorted(unique.values(), key=lambda t: (t.address, t.end))
        start, end, members = ordered[0].address, ordered[0].end, [ordered[0]]
        for tag in ordered[1:]:
            merged_end = max(end, tag.end)
            if tag.address - end <= max_gap and merged_end - start <= limit:
                end = merged_end
                members.append(tag)
                continue
            plan.append(ReadRequest(slave, table, start, end - start, tuple(members)))
            start, end, members = tag.address, tag.end, [tag]
        plan.append(ReadRequest(slave, table, start, end - start, tuple(members)))
    for request in plan:
        limit = max_bits if request.table.is_bit else max_registers
        if request.count > limit:
            raise TagMapError(
                f"tag {request.tags[0].name!r} needs {request.count} addresses, more than one "
                f"request can read ({limit})"
            )
    return plan
