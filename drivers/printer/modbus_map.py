"""A printer's Modbus register map (docs/protocols/printer.md, "Modbus"), sans-IO.

A coder on a fieldbus, driven the way a PLC drives one: the controller writes the job name,
the unit reference and the variable fields into holding registers, then a command code with a
new command sequence number in one write; the printer carries the command out and copies the
sequence number into `command_ack` with a result code. What the printer reports on its own
waits in a mailbox of input registers, oldest first, until the controller acknowledges it by
its number; status and fault bits sit beside it, so one read sees everything. The driver
(`drivers.printer.modbus`) and the simulator (`simulators.modbus_device.printer`) both take
the map from here.

Texts are ASCII in the registers: every byte of a text's UTF-8 form below 0x20, above 0x7E,
and `%` itself, travels as `%XX` (so a GS1 separator GS is `%1D`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Final

from drivers.base import PrinterFault, UsageError
from drivers.modbus.tagmap import DataType, Table, Tag
from drivers.printer.framing import unescape_field
from drivers.printer.protocol import ErrorCode, NackCode

MAX_FIELDS: Final = 9
JOB_CHARS: Final = 32
UNIT_REF_CHARS: Final = 64
FIELD_CHARS: Final = 128
TEXT_CHARS: Final = 64
FIELD_BASE: Final = 64
"""Holding register of field 1; field i starts `FIELD_CHARS // 2` registers after field i-1."""
DEFAULT_WATCHDOG_MS: Final = 2000


class Command(IntEnum):
    SELECT = 1
    DATA = 2
    GO = 3
    CLEAR = 4


class Outcome(IntEnum):
    NONE = 0
    PRINTED = 1
    NACK = 2


ERROR_NUMBERS: Final[Mapping[ErrorCode, int]] = {
    ErrorCode.VERB: 2,
    ErrorCode.ARGS: 3,
    ErrorCode.UNKNOWN_JOB: 6,
    ErrorCode.FIELDS: 7,
    ErrorCode.NOJOB: 8,
    ErrorCode.DUPLICATE: 9,
    ErrorCode.BUFFER_FULL: 10,
    ErrorCode.OFFLINE: 11,
    ErrorCode.FAULT: 12,
    ErrorCode.EMPTY: 13,
}
"""`command_result`: 0 is OK; these numbers are the TGP/1 error codes."""
NACK_NUMBERS: Final[Mapping[NackCode, int]] = {
    NackCode.OFFLINE: 1,
    NackCode.INK_OUT: 2,
    NackCode.HEAD: 3,
    NackCode.MISSED: 4,
    NackCode.CLEARED: 5,
    NackCode.JOB_CHANGED: 6,
    NackCode.OTHER: 7,
}
READY_BIT: Final = 0
FAULT_BITS: Final[Mapping[PrinterFault, int]] = {
    PrinterFault.OFFLINE: 2,
    PrinterFault.INK_LOW: 3,
    PrinterFault.INK_OUT: 4,
    PrinterFault.HEAD: 5,
    PrinterFault.BUFFER_FULL: 6,
    PrinterFault.OTHER: 7,
}
"""Bits of the `status` input register (bit 0 is ready)."""

HEARTBEAT: Final = "heartbeat"
COMMAND: Final = "command"
REPORT_ACK: Final = "report_ack"
VALUE_COUNT: Final = "value_count"
WATCHDOG_MS: Final = "watchdog_ms"
JOB: Final = "job"
UNIT_REF: Final = "unit_ref"
STATUS: Final = "status"
QUEUED: Final = "queued"
CAPACITY: Final = "capacity"
BOOT_ID: Final = "boot_id"
COMMAND_ACK: Final = "command_ack"
COMMAND_RESULT: Final = "command_result"
COMMAND_VALUE: Final = "command_value"
REPORT_SEQ: Final = "report_seq"
REPORT_OUTCOME: Final = "report_outcome"
REPORT_CODE: Final = "report_code"
REPORTS_WAITING: Final = "reports_waiting"
REPORT_UNIT_REF: Final = "report_unit_ref"
SELECTED_JOB: Final = "selected_job"
COMMAND_TEXT: Final = "command_text"


def field_tag(index: int) -> str:
    """Holding-register tag of variable field `index` (0 is the symbol's payload)."""
    return f"field_{index + 1}"


def printer_tags(slave: int = 1) -> list[Tag]:
    """Every register of the map, for `slave`."""
    hr, ir, u16, text = Table.HOLDING, Table.INPUT, DataType.UINT16, DataType.STRING
    return [
        Tag(HEARTBEAT, slave, hr, 0, u16),
        Tag(COMMAND, slave, hr, 1, DataType.UINT32),
        Tag(REPORT_ACK, slave, hr, 3, u16),
        Tag(VALUE_COUNT, slave, hr, 4, u16),
        Tag(WATCHDOG_MS, slave, hr, 5, u16),
        Tag(JOB, slave, hr, 8, text, JOB_CHARS),
        Tag(UNIT_REF, slave, hr, 24, text, UNIT_REF_CHARS),
        *(
            Tag(field_tag(i), slave, hr, FIELD_BASE + i * FIELD_CHARS // 2, text, FIELD_CHARS)
            for i in range(MAX_FIELDS)
        ),
        Tag(STATUS, slave, ir, 0, u16),
        Tag(QUEUED, slave, ir, 1, u16),
        Tag(CAPACITY, slave, ir, 2, u16),
        Tag(BOOT_ID, slave, ir, 3, u16),
        Tag(COMMAND_ACK, slave, ir, 4, u16),
        Tag(COMMAND_RESULT, slave, ir, 5, u16),
        Tag(COMMAND_VALUE, slave, ir, 6, u16),
        Tag(REPORT_SEQ, slave, ir, 7, u16),
        Tag(REPORT_OUTCOME, slave, ir, 8, u16),
        Tag(REPORT_CODE, slave, ir, 9, u16),
        Tag(REPORTS_WAITING, slave, ir, 10, u16),
        Tag(REPORT_UNIT_REF, slave, ir, 16, text, UNIT_REF_CHARS),
        Tag(SELECTED_JOB, slave, ir, 48, text, JOB_CHARS),
        Tag(COMMAND_TEXT, slave, ir, 64, text, TEXT_CHARS),
    ]


INPUTS: Final = (
    STATUS,
    QUEUED,
    CAPACITY,
    BOOT_ID,
    COMMAND_ACK,
    COMMAND_RESULT,
    COMMAND_VALUE,
    REPORT_SEQ,
    REPORT_OUTCOME,
    REPORT_CODE,
    REPORTS_WAITING,
    REPORT_UNIT_REF,
    SELECTED_JOB,
    COMMAND_TEXT,
)
"""Every input register: one read of 96 registers."""


def command_word(command: Command, sequence: int) -> int:
    """The `command` tag's value: the command code in its first register, the sequence in the
    second, so both go out in one write."""
    return int(command) << 16 | sequence


def split_command_word(word: int) -> tuple[int, int]:
    return word >> 16, word & 0xFFFF


def next_sequence(sequence: int) -> int:
    """1, 2, … 65535, 1, …: a sequence number is never 0."""
    return sequence % 0xFFFF + 1


def status_word(ready: bool, faults: Iterable[PrinterFault]) -> int:
    word = 1 << READY_BIT if ready else 0
    for fault in faults:
        word |= 1 << FAULT_BITS[fault]
    return word


def faults_of(word: int) -> frozenset[PrinterFault]:
    return frozenset(fault for fault, bit in FAULT_BITS.items() if word >> bit & 1)


def error_of(number: int) -> str:
    """The TGP/1 code of a `command_result`, or `ERROR <n>` for a number the map lacks."""
    return next((code.value for code, n in ERROR_NUMBERS.items() if n == number), f"ERROR {number}")


def nack_of(number: int) -> str:
    return next((code.value for code, n in NACK_NUMBERS.items() if n == number), NackCode.OTHER)


def address(name: str) -> int:
    """The first register of tag `name`."""
    return next(tag.address for tag in printer_tags() if tag.name == name)


def escape(text: str) -> str:
    """`text` in printable ASCII: other bytes of its UTF-8 form, and `%`, as `%XX`."""
    return "".join(
        chr(byte) if 0x20 <= byte <= 0x7E and byte != 0x25 else f"%{byte:02X}"
        for byte in text.encode("utf-8")
    )


def encode_text(text: str, limit: int, what: str) -> str:
    """`text` as it is written into registers of `limit` characters (UsageError if too long)."""
    escaped = escape(text)
    if len(escaped) > limit:
        raise UsageError(
            f"{what} {text[:40]!r} takes {len(escaped)} characters in the registers, "
            f"more than the {limit} the printer reserves",
            hint="shorten it; bytes outside printable ASCII take three characters (%XX)",
        )
    return escaped


def decode_text(registers_text: str) -> str:
    """Reverse of `encode_text`; raises ValueError on a bad escape or invalid UTF-8."""
    return unescape_field(registers_text.encode("ascii", errors="strict"))
