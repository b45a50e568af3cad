"""OPC UA client (asyncua inside; only neutral drivers.base types come out)."""

from drivers.opcua.client import OpcUaClient
from drivers.opcua.feeds import OpcUaEvent
from drivers.opcua.settings import Identity, OpcUaSettings, SecurityMode, SecurityPolicy

__all__ = [
    "Identity",
    "OpcUaClient",
    "OpcUaEvent",
    "OpcUaSettings",
    "SecurityMode",
    "SecurityPolicy",
]
