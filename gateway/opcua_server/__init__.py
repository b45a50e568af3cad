"""The gateway's OPC UA server for the upstream MES (docs/opcua.md).

`GatewayOpcUaServer` serves the tracegate information model, the Records methods (pull with
acknowledgement over the production journal), batch phase and alarm events; `LineNode` is what
the line runtime updates. Plain Python values in and out: asyncua stays inside this package,
except `GatewayOpcUaServer.asyncua_server` and the installers it runs, for extensions such as
the OPEN-SCS model.
"""

from gateway.opcua_server.access import WRITE_ROLES
from gateway.opcua_server.line_node import LineNode
from gateway.opcua_server.server import GatewayOpcUaServer, Installer, OpcUaServerError
from gateway.opcua_server.settings import (
    DeviceModel,
    LineModel,
    ServerNotConfiguredError,
    ServerSettings,
    SiteModel,
    settings_from_config,
    site_model_from_config,
)

__all__ = [
    "WRITE_ROLES",
    "DeviceModel",
    "GatewayOpcUaServer",
    "Installer",
    "LineModel",
    "LineNode",
    "OpcUaServerError",
    "ServerNotConfiguredError",
    "ServerSettings",
    "SiteModel",
    "settings_from_config",
    "site_model_from_config",
]
