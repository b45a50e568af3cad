"""Handheld scanners over TCP or a serial port; AIM symbology identifiers kept as sent."""

from drivers.scanner.client import SerialScanner, TcpScanner

__all__ = ["SerialScanner", "TcpScanner"]
