"""Fixtures for the spec builder's tests: the project's page and overlays, and a scratch copy of spec/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import spec_dir
from conformance.contract.specbuild import build_spec, parse_overlay, parse_page
from conformance.contract.specbuild.project import overlay_files

SPEC = spec_dir()
PAGE_PATH = SPEC / "source" / "create-evs-snapshot.txt"


def page_text() -> str:
    return PAGE_PATH.read_text(encoding="utf-8")


def edited(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def build(text: str, profile: str = "huawei", *, overlays: bool = True) -> dict[str, Any]:
    """The document built from page ``text`` with the project's overlays for ``profile`` (or none)."""
    files = overlay_files(profile, SPEC / "overlays") if overlays else ()
    loaded = [parse_overlay(f.read_text(encoding="utf-8"), source=f.name) for f in files]
    return build_spec(parse_page(text, source="page.txt"), loaded, profile=profile)


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A copy of spec/ (page, overlays, committed contracts) that a test may edit."""
    target = tmp_path / "spec"
    shutil.copytree(SPEC, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
