"""Modbus TCP and RTU: tag maps, read planning and the client (pymodbus stays inside)."""

from drivers.modbus.client import ModbusTagSource
from drivers.modbus.settings import PollSettings, RtuSettings, TcpSettings
from drivers.modbus.tagmap import (
    DataType,
    Order,
    ReadRequest,
    Table,
    Tag,
    TagMap,
    TagMapError,
    decode,
    encode,
    plan_reads,
)

__all__ = [
    "DataType",
    "ModbusTagSource",
    "Order",
    "PollSettings",
    "ReadRequest",
    "RtuSettings",
    "Table",
    "Tag",
    "TagMap",
    "TagMapError",
    "TcpSettings",
    "decode",
    "encode",
    "plan_reads",
]
