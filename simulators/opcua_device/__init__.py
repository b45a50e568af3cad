"""Simulated devices that speak OPC UA: a printer and a camera, each a small server of its own."""
