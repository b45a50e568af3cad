"""`python -m simulators.camera`: a standalone camera on the TCP frame stream, with a control port.

Prints one JSON line with both addresses once listening, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from simulators.camera.server import (
    CameraMode,
    CameraServer,
    FrameSource,
    gradient_source,
    render_source,
    serve_control,
)
from simulators.faults import add_fault_arguments, faults_from_arguments


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} must look like 640x480") from None
    if not (0 < width <= 4096 and 0 < height <= 4096):
        raise argparse.ArgumentTypeError(f"size {text!r} must be within 1x1 .. 4096x4096")
    return width, height


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.camera", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="frame stream port (0: any free)")
    parser.add_argument("--control-port", type=int, default=0, help="control port (0: any)")
    parser.add_argument("--mode", choices=[m.value for m in CameraMode], default="image")
    parser.add_argument("--size", type=_size, default=(640, 480), help="frame size, e.g. 640x480")
    parser.add_argument("--png", action="store_true", help="send PNG bodies instead of mono8")
    parser.add_argument(
        "--render",
        action="store_true",
        help="draw the payload as DataMatrix",
    )
    parser.add_argument("--defects", type=float, default=0.0, help="fraction of defective frames")
    parser.add_argument("--rate", type=float, default=None, help="auto-trigger units per minute")
    parser.add_argument("--heartbeat", type=float, default=0.5, help="heartbeat interval, s")
    add_fault_arguments(parser)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    width, height = args.size
    source: FrameSource
    if args.render:
        source = render_source(width, height, defects=args.defects)
    else:
        source = gradient_source(width, height, png=args.png)
    faults = faults_from_arguments(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with CameraServer(
        host=args.host,
        port=args.port,
        mode=CameraMode(args.mode),
        source=source,
        heartbeat_interval=args.heartbeat,
        rate_per_min=args.rate,
        faults=faults,
    ) as server:
        control = await serve_control(server, args.host, args.control_port)
        try:
            control_port = control.sockets[0].getsockname()[1]
            print(
                json.dumps(
                    {
                        "camera": f"{args.host}:{server.port}",
                        "control": f"{args.host}:{control_port}",
                    }
                ),
                flush=True,
            )
            await stop.wait()
        finally:
            control.close()
            with contextlib.suppress(Exception):
                await control.wait_closed()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
