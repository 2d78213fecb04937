"""Servers that implement the Create-snapshot page independently of the reference mock, to test the suite."""

from __future__ import annotations

from .alt_server import AltServer, serve_alt

__all__ = ["AltServer", "serve_alt"]
