"""The read planner: merged reads, gap tolerance and the per-request limits."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.modbus.tagmap import (
    MAX_READ_BITS,
    MAX_READ_REGISTERS,
    DataType,
    Table,
    Tag,
    TagMapError,
    plan_reads,
)


def holding(name: str, address: int, data_type: DataType = DataType.UINT16, **kw: int) -> Tag:
    return Tag(name, 1, Table.HOLDING, address, data_type, **kw)  # type: ignore[arg-type]


def test_adjacent_tags_merge_into_one_read() -> None:
    tags = [holding("a", 0), holding("b", 1, DataType.FLOAT32), holding("c", 3)]
    [request] = plan_reads(tags)
    assert (request.address, request.count) == (0, 4)
    assert [t.name for t in request.tags] == ["a", "b", "c"]
    assert request.slice_for(tags[1]) == slice(1, 3)


def test_gap_tolerance_decides_merging() -> None:
    tags = [holding("a", 0), holding("b", 6)]
    assert len(plan_reads(tags, max_gap=4)) == 2
    [merged] = plan_reads(tags, max_gap=5)
    assert merged.count == 7


def test_slaves_and_tables_are_never_mixed() -> None:
    tags = [
        holding("a", 0),
        Tag("b", 1, Table.INPUT, 1, DataType.UINT16),
        Tag("c", 2, Table.HOLDING, 1, DataType.UINT16),
        Tag("d", 1, Table.COIL, 0, DataType.BOOL),
    ]
    assert len(plan_reads(tags, max_gap=100)) == 4


def test_limit_splits_long_runs() -> None:
    tags = [holding(f"t{i}", i) for i in range(300)]
    plan = plan_reads(tags)
    assert [r.count for r in plan] == [125, 125, 50]
    coils = [Tag(f"c{i}", 1, Table.COIL, i, DataType.BOOL) for i in range(2500)]
    assert [r.count for r in plan_reads(coils)] == [2000, 500]


def test_bad_limits_are_refused() -> None:
    with pytest.raises(TagMapError, match="max_gap"):
        plan_reads([], max_gap=-1)
    with pytest.raises(TagMapError, match="request limits"):
        plan_reads([], max_registers=126)


def test_a_tag_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(TagMapError, match="more than one request can read"):
        plan_reads([holding("s", 0, DataType.STRING, length=100)], max_registers=10)


def test_duplicate_requests_of_one_tag_are_read_once() -> None:
    tag = holding("a", 0)
    [request] = plan_reads([tag, tag])
    assert request.tags == (tag,)


SIZES = {
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.FLOAT64: 4,
    DataType.STRING: 0,
}


@st.composite
def tag_sets(draw: st.DrawFn) -> list[Tag]:
    """Non-overlapping tags spread over two slaves and all four tables."""
    tags: list[Tag] = []
    for slave in (1, 2):
        for table in Table:
            address = draw(st.integers(0, 65000))
            for _ in range(draw(st.integers(0, 40))):
                address += draw(st.integers(0, 30))
                if table.is_bit:
                    data_type, length = DataType.BOOL, 0
                else:
                    data_type = draw(st.sampled_from(list(SIZES)))
                    length = draw(st.integers(1, 246)) if data_type is DataType.STRING else 0
                tag = Tag(f"{slave}-{table}-{address}", slave, table, address, data_type, length)
                if tag.end - 1 > 65535:
                    break
                tags.append(tag)
                address = tag.end
    return tags


@settings(max_examples=200)
@given(
    tags=tag_sets(),
    max_gap=st.integers(0, 200),
    max_registers=st.integers(123, 125),
)
def test_plan_covers_every_tag_once_within_limits(
    tags: list[Tag], max_gap: int, max_registers: int
) -> None:
    plan = plan_reads(tags, max_gap=max_gap, max_registers=max_registers)
    covered = Counter(tag.name for request in plan for tag in request.tags)
    assert covered == Counter(tag.name for tag in tags)
    for request in plan:
        limit = MAX_READ_BITS if request.table.is_bit else max_registers
        assert 1 <= request.count <= limit
        assert request.count <= (MAX_READ_BITS if request.table.is_bit else MAX_READ_REGISTERS)
        assert request.address + request.count - 1 <= 65535
        for tag in request.tags:
            assert (tag.slave, tag.table) == (request.slave, request.table)
            assert request.address <= tag.address
            assert tag.end <= request.address + request.count


@given(tags=tag_sets())
def test_zero_gap_plan_reads_no_unused_address(tags: list[Tag]) -> None:
    for request in plan_reads(tags, max_gap=0):
        assert sum(tag.size for tag in request.tags) == request.count


@given(tags=tag_sets())
def test_merging_never_needs_more_requests_than_tags(tags: list[Tag]) -> None:
    assert len(plan_reads(tags, max_gap=10)) <= len(plan_reads(tags, max_gap=0)) <= len(tags)
