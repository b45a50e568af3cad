"""Every fuzz target by name, for `fuzz/run.py` and the tests."""

from __future__ import annotations

from collections.abc import Callable

from fuzz import (
    code_parser,
    device_protocols,
    epcis_input,
    http_api,
    opcua_arguments,
    serial_imports,
    site_file,
)

Harness = Callable[[bytes], None]

TARGETS: dict[str, Harness] = {
    "printer_client": device_protocols.fuzz_printer_client,
    "printer_server": device_protocols.fuzz_printer_server,
    "printer_frame": device_protocols.fuzz_printer_frame,
    "printer_modbus_map": device_protocols.fuzz_printer_modbus_map,
    "camera_frames": device_protocols.fuzz_camera_frames,
    "scanner": device_protocols.fuzz_scanner,
    "config_loader": site_file.fuzz_config_loader,
    "code_parser": code_parser.fuzz_code_parser,
    "gs1_round_trip": code_parser.fuzz_gs1_round_trip,
    "code_template": code_parser.fuzz_code_template,
    "serial_import_csv": serial_imports.fuzz_serial_import_csv,
    "serial_import_json": serial_imports.fuzz_serial_import_json,
    "platform_relations_xml": serial_imports.fuzz_platform_relations_xml,
    "epcis_jsonld": epcis_input.fuzz_epcis_jsonld,
    "epcis_xml": epcis_input.fuzz_epcis_xml,
    "opcua_arguments": opcua_arguments.fuzz_opcua_arguments,
    "opcua_order_json": opcua_arguments.fuzz_opcua_order_json,
    "http_api": http_api.fuzz_http_api,
}
