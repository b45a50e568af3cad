"""The operator's HMI in the browser: server-rendered pages, live values over server-sent
events, zh-CN and English (docs/hmi.md)."""

from gateway.hmi.app import create_hmi_app
from gateway.hmi.console import LineConsole
from gateway.hmi.server import serving_hmi
from gateway.hmi.settings import HmiSettings

__all__ = ["HmiSettings", "LineConsole", "create_hmi_app", "serving_hmi"]
