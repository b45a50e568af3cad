"""The OPC UA printer driver beats the printer's watchdog as soon as it has the printer again.

Found in CI: a contract scenario's units were CLEARED ("controller heartbeat lost") because the
driver's first beat came one poll after its resync, and that first beat wrote the value an
earlier session had left (no change, so no beat at all). Under load the watchdog, still armed
by the earlier session, expired with the new session's units queued.
"""

from __future__ import annotations

from drivers.opcua.settings import OpcUaSettings
from drivers.printer import opcua_nodes as nodes
from drivers.printer.opcua import OpcUaPrinter
from simulators.opcua_device.printer import OpcUaPrinterSimulator
from simulators.ports import free_port


async def test_a_new_session_moves_the_heartbeat_before_its_first_poll() -> None:
    server = OpcUaPrinterSimulator(port=free_port(), jobs={"u": ("code",)})
    await server.start()
    try:
        settings = OpcUaSettings(name="printer-1", endpoint=server.endpoint)
        for left_by_earlier_session in (1, 0x7FFFFFFF):
            await server.show(nodes.HEARTBEAT, left_by_earlier_session, force=True)
            async with OpcUaPrinter(settings, root=server.root, poll_interval=60) as printer:
                await printer.wait_until_up(10)
                assert server.value(nodes.HEARTBEAT) != left_by_earlier_session
    finally:
        await server.close()
