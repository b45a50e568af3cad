"""The gateway's HTTP JSON API (docs/trace.md): trace, recall, sessions."""

from gateway.api.app import create_app

__all__ = ["create_app"]
