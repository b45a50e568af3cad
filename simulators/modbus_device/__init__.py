"""Simulated Modbus devices (a checkweigher, a reject station) for TCP and RTU tests and demos."""

from simulators.modbus_device.points import (
    Behaviour,
    Point,
    RegisterImage,
    checkweigher_points,
    default_points,
    points_from_data,
    reject_station_points,
)
from simulators.modbus_device.pty_link import PtyLink
from simulators.modbus_device.server import ModbusDeviceSimulator, SlaveFaults

__all__ = [
    "Behaviour",
    "ModbusDeviceSimulator",
    "Point",
    "PtyLink",
    "RegisterImage",
    "SlaveFaults",
    "checkweigher_points",
    "default_points",
    "points_from_data",
    "reject_station_points",
]
