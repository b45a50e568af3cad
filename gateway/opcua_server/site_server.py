"""The site's OPC UA server as the gateway runs it: the tracegate model, Records and Orders,
with the OPEN-SCS pool manager installed, every call made as the gateway account of its
session."""

from __future__ import annotations

from asyncua.server.server import Server

from config import SiteConfig
from ebr.audit.actor import Actor
from ebr.users import Users
from gateway.opcua_server.access import current_caller
from gateway.opcua_server.openscs import install_openscs
from gateway.opcua_server.orders import OrdersService, install_orders
from gateway.opcua_server.server import GatewayOpcUaServer
from gateway.opcua_server.settings import settings_from_config, site_model_from_config
from gateway.site_store import SiteStore


def openscs_actor(_method: str) -> Actor | None:
    """The OPEN-SCS methods change the serial pool: only a named supervisor or engineer
    account may call them (the same rule as Acknowledge)."""
    caller = current_caller()
    if caller is None or not caller.may_write or caller.user_id is None:
        return None
    return Actor(caller.user_id, caller.username)


def site_server(config: SiteConfig, store: SiteStore) -> GatewayOpcUaServer:
    """The server of the site file's `opcua_server` section (`ServerNotConfiguredError` when
    there is none)."""
    server = GatewayOpcUaServer(
        settings_from_config(config),
        site_model_from_config(config),
        store.engine,
        Users(store.audit),
    )

    async def openscs(asyncua_server: Server) -> None:
        await install_openscs(
            asyncua_server, engine=store.engine, audit=store.audit, caller=openscs_actor
        )

    async def orders(asyncua_server: Server) -> None:
        await install_orders(
            asyncua_server,
            server.settings.namespace_uri,
            OrdersService(config, store.engine, audit=store.audit),
        )

    server.installers.extend((orders, openscs))
    return server
