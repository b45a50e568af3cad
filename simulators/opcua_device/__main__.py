"""`python -m simulators.opcua_device --printer-port N --camera-port M`: OPC UA devices alone.

A printer and a camera, each its own OPC UA server, secured like the line PLC simulator
(`--security Basic256Sha256_SignAndEncrypt --cert-dir DIR`: `printer.der` / `camera.der` and
their keys are made there when missing). With `--rate` the camera takes a picture of units
`U000001`, `U000002`, … at that many per minute. Prints `READY <endpoint> …` on stdout once
every server listens, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from drivers.camera.opcua_nodes import NAMESPACE_URI as CAMERA_NAMESPACE
from drivers.printer.opcua_nodes import NAMESPACE_URI as PRINTER_NAMESPACE
from simulators.camera.server import gradient_source
from simulators.line_plc.certs import make_self_signed
from simulators.line_plc.server import ENDPOINT_POLICIES, PlcSecurity
from simulators.opcua_device.camera import OpcUaCameraSimulator
from simulators.opcua_device.printer import OpcUaPrinterSimulator
from simulators.opcua_device.server import OpcUaDeviceServer


def _job(text: str) -> tuple[str, tuple[str, ...]]:
    name, _, fields = text.partition("=")
    if not name or not fields:
        raise argparse.ArgumentTypeError(f"{text!r}: write a job as NAME=field1,field2,...")
    return name, tuple(fields.split(","))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators.opcua_device", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--printer-port", type=int, help="serve a printer on this port")
    parser.add_argument("--camera-port", type=int, help="serve a camera on this port")
    parser.add_argument(
        "--job", type=_job, action="append", default=[], metavar="NAME=FIELD,...",
        help="a message the printer knows (repeatable); without any, every job is accepted",
    )  # fmt: skip
    parser.add_argument("--rate", type=float, help="camera pictures per minute (default: none)")
    parser.add_argument(
        "--security",
        default="None",
        help=f"comma-separated endpoints: {', '.join(ENDPOINT_POLICIES)}",
    )
    parser.add_argument("--cert-dir", type=Path, help="where the servers' certificates are kept")
    return parser


def security_for(args: argparse.Namespace, device: str, application_uri: str) -> PlcSecurity:
    endpoints = tuple(e.strip() for e in args.security.split(",") if e.strip())
    unknown = [e for e in endpoints if e not in ENDPOINT_POLICIES]
    if unknown or not endpoints:
        raise SystemExit(
            f"--security {args.security!r}: unknown {unknown or 'empty'}; "
            f"choose from {', '.join(ENDPOINT_POLICIES)}"
        )
    if all(e == "None" for e in endpoints):
        return PlcSecurity(endpoints=endpoints)
    if args.cert_dir is None:
        raise SystemExit("secured endpoints need --cert-dir (the certificates are made there)")
    cert, key = args.cert_dir / f"{device}.der", args.cert_dir / f"{device}.key.pem"
    if not cert.exists() or not key.exists():
        pair = make_self_signed(args.cert_dir, device, application_uri=application_uri)
        cert, key = pair.certificate, pair.private_key
    return PlcSecurity(endpoints=endpoints, certificate=cert, private_key=key)


async def _camera_rate(camera: OpcUaCameraSimulator, per_min: float) -> None:
    count = 0
    while True:
        count += 1
        await camera.trigger(f"U{count:06d}")
        await asyncio.sleep(60.0 / per_min)


async def serve(args: argparse.Namespace) -> None:
    devices: list[OpcUaDeviceServer] = []
    camera: OpcUaCameraSimulator | None = None
    if args.printer_port is not None:
        devices.append(
            OpcUaPrinterSimulator(
                host=args.host,
                port=args.printer_port,
                security=security_for(args, "printer", PRINTER_NAMESPACE),
                jobs=dict(args.job) or None,
            )
        )
    if args.camera_port is not None:
        camera = OpcUaCameraSimulator(
            host=args.host,
            port=args.camera_port,
            security=security_for(args, "camera", CAMERA_NAMESPACE),
            source=gradient_source(64, 48),
        )
        devices.append(camera)
    if not devices:
        raise SystemExit("give --printer-port, --camera-port or both")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        for device in devices:
            await stack.enter_async_context(device)
        if camera is not None and args.rate:
            rate = asyncio.create_task(_camera_rate(camera, args.rate))
            stack.callback(rate.cancel)
        print("READY " + " ".join(d.endpoint for d in devices), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve(build_parser().parse_args(argv)))


if __name__ == "__main__":
    main()
