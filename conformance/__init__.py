"""Conformance suite, reference mock and contract builder for the EVS "Create a snapshot" API."""

from __future__ import annotations

__version__ = "0.1.0"
