"""Printers (CIJ / TIJ / laser coders) over TGP, tracegate's TCP line protocol."""

from drivers.printer.client import TcpPrinter

__all__ = ["TcpPrinter"]
