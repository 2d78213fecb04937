"""Imports the Cinder audit's modules, which live in a script directory rather than a package."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

AUDIT_DIR = Path(__file__).resolve().parents[2] / "audits" / "cinder"


def harness(name: str) -> ModuleType:
    # The harness modules import each other by plain name, as run_audit.py runs them.
    if str(AUDIT_DIR) not in sys.path:
        sys.path.insert(0, str(AUDIT_DIR))
    return importlib.import_module(name)
