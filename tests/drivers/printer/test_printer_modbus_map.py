"""The Modbus printer's register map: texts in registers, command words, status bits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import PrinterFault, UsageError
from drivers.modbus.tagmap import TagMap, plan_reads
from drivers.printer import modbus_map as rmap
from drivers.printer.protocol import ErrorCode, NackCode


@given(st.text(max_size=40))
def test_every_text_survives_the_registers(text: str) -> None:
    stored = rmap.encode_text(text, 4 * 40 * 3, "text")
    assert stored.isascii()
    assert all(0x20 <= ord(c) <= 0x7E for c in stored)
    assert rmap.decode_text(stored) == text


def test_a_gs1_separator_and_chinese_travel_escaped() -> None:
    assert rmap.encode_text("01\x1d21AB%", 64, "payload") == "01%1D21AB%25"
    assert rmap.encode_text("批", 64, "line") == "%E6%89%B9"


def test_a_text_too_long_for_its_registers_is_refused_with_a_hint() -> None:
    with pytest.raises(UsageError) as refused:
        rmap.encode_text("批" * 11, rmap.JOB_CHARS, "job name")
    assert "takes 99 characters" in refused.value.message
    assert refused.value.hint is not None
    assert "%XX" in refused.value.hint


def test_the_map_is_valid_and_one_read_covers_every_input() -> None:
    tags = TagMap(rmap.printer_tags(3))
    inputs = plan_reads([tags[name] for name in rmap.INPUTS], max_gap=8)
    assert len(inputs) == 1
    assert (inputs[0].slave, inputs[0].address, inputs[0].count) == (3, 0, 96)
    assert rmap.address(rmap.field_tag(8)) + rmap.FIELD_CHARS // 2 <= 0xFFFF


def test_command_words_sequences_and_status_bits() -> None:
    word = rmap.command_word(rmap.Command.DATA, 17)
    assert rmap.split_command_word(word) == (2, 17)
    assert rmap.next_sequence(0xFFFF) == 1
    faults = frozenset({PrinterFault.INK_LOW, PrinterFault.HEAD})
    status = rmap.status_word(True, faults)
    assert status & 1
    assert rmap.faults_of(status) == faults
    assert rmap.error_of(rmap.ERROR_NUMBERS[ErrorCode.UNKNOWN_JOB]) == "UNKNOWN_JOB"
    assert rmap.error_of(99) == "ERROR 99"
    assert rmap.nack_of(rmap.NACK_NUMBERS[NackCode.MISSED]) == "MISSED"
