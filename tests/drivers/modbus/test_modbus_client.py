"""The Modbus client without a device: clear errors, and DOWN while nothing answers."""

from __future__ import annotations

import socket

import pytest

from drivers.base import DeviceUnavailableError, LinkState, UsageError
from drivers.modbus import DataType, ModbusTagSource, PollSettings, Table, Tag, TcpSettings

TAGS = [Tag("speed", 1, Table.HOLDING, 0, DataType.UINT16)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_device_is_down_with_a_hint() -> None:
    settings = TcpSettings("127.0.0.1", closed_port())
    async with ModbusTagSource("nobody", settings, TAGS, PollSettings()) as source:
        with pytest.raises(DeviceUnavailableError, match=r"not connected after 0\.5 s") as caught:
            await source.wait_connected(0.5)
        assert caught.value.hint is not None
        assert settings.describe() in caught.value.hint
        health = source.health()
        assert health.state is LinkState.DOWN
        assert health.error_count >= 1
        assert "cannot connect" in (health.last_error or "")
        assert health.details["endpoint"] == settings.describe()
        with pytest.raises(DeviceUnavailableError, match="nobody: not connected"):
            await source.read(["speed"])


async def test_unknown_tags_fail_before_any_io() -> None:
    source = ModbusTagSource("idle", TcpSettings("127.0.0.1", 1), TAGS)
    with pytest.raises(UsageError, match="unknown tag 'sped'"):
        await source.read(["sped"])
    with pytest.raises(UsageError, match="unknown tag 'sped'"):
        source.subscribe(["sped"])
    assert source.requests_sent == 0
