"""The line PLC interface the gateway expects (docs/protocols/line-plc.md), shared by the
gateway's runtime and the PLC simulator."""
