"""Console entry point `tracegate`."""

from __future__ import annotations

import argparse
import sys

from drivers.base import DriverError
from ebr.errors import StoreError
from ebr.journal import JournalRejectedError
from gateway.allocator import tune_allocator
from gateway.commands import (
    api,
    audit,
    backup,
    certs,
    check_config,
    codes,
    db,
    decoction,
    demo,
    devices,
    doctor,
    ebr,
    epcis,
    keys,
    opcua,
    order,
    platform,
    recall,
    recipe,
    run,
    simulate,
    trace,
    users,
    vision,
)
from gateway.commands.common import CommandError, fail_from, report_error
from gateway.line.supervisor import LineActionError
from gateway.logs import configure_logging
from gateway.opcua_server import OpcUaServerError
from gateway.site_store import SiteStoreError
from serialization.errors import SerializationError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracegate",
        description="Edge gateway for serialized pharmaceutical packaging lines.",
    )
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING or ERROR")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        check_config,
        codes,
        keys,
        db,
        demo,
        run,
        vision,
        audit,
        ebr,
        epcis,
        trace,
        recall,
        recipe,
        order,
        decoction,
        platform,
        api,
        users,
        devices,
        simulate,
        certs,
        opcua,
        doctor,
        backup,
    ):
        module.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    tune_allocator()
    args = build_parser().parse_args(argv)
    configure_logging(level=args.log_level.upper())
    try:
        result: int = args.run(args)
    except CommandError as error:
        report_error(error)
        return 1
    except (
        SiteStoreError,
        StoreError,
        SerializationError,
        LookupError,
        DriverError,
        LineActionError,
        JournalRejectedError,
        OpcUaServerError,
    ) as error:
        try:
            fail_from(error)
        except CommandError as command_error:
            report_error(command_error)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
