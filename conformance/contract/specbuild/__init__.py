"""The spec builder: the API page's tables, plus reviewed overlays, become each profile's OpenAPI contract.

``page`` reads the text into a :class:`~conformance.contract.specbuild.model.Page`, ``document`` turns it into
OpenAPI, ``overlay`` applies the reviewed data, ``build`` finishes and renders one profile, and
``project`` builds and drift-checks the files of a spec directory.
"""

from __future__ import annotations

from conformance.contract.specbuild.build import build_spec, render_spec
from conformance.contract.specbuild.document import build_document
from conformance.contract.specbuild.model import Example, Page, Row, Table, TypeRef
from conformance.contract.specbuild.overlay import Overlay, apply_overlay, parse_overlay
from conformance.contract.specbuild.page import parse_page
from conformance.contract.specbuild.project import Drift, build_profile, check_specs, committed_path

__all__ = [
    "Drift",
    "Example",
    "Overlay",
    "Page",
    "Row",
    "Table",
    "TypeRef",
    "apply_overlay",
    "build_document",
    "build_profile",
    "build_spec",
    "check_specs",
    "committed_path",
    "parse_overlay",
    "parse_page",
    "render_spec",
]
