"""Building and drift-checking the files of a spec directory (always a scratch copy here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.contract import PROFILES
from conformance.contract.specbuild.project import build_profile, check_specs, committed_path, overlay_files
from conformance.core.errors import SpecError


def test_the_committed_files_equal_a_fresh_build(spec_copy: Path) -> None:
    assert check_specs(spec_copy) == []


def test_an_edited_committed_file_drifts_with_a_unified_diff(spec_copy: Path) -> None:
    path = committed_path("cinder", spec_copy)
    path.write_text(path.read_text(encoding="utf-8").replace("maxLength: 255", "maxLength: 256", 1))
    (drift,) = check_specs(spec_copy)
    assert drift.path == path
    assert "-          maxLength: 256\n" in drift.diff
    assert "+          maxLength: 255\n" in drift.diff
    assert drift.diff.startswith(f"--- {path} (committed)\n+++ {path} (fresh build)\n")


def test_an_edited_page_makes_every_profile_drift(spec_copy: Path) -> None:
    page = spec_copy / "source" / "create-evs-snapshot.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("up to 64 characters", "up to 65 characters"))
    drifts = check_specs(spec_copy)
    assert [d.path.name for d in drifts] == [f"evs-snapshot-{p}.yaml" for p in PROFILES]
    assert "+          maxLength: 65\n" in drifts[0].diff


def test_a_missing_committed_file_drifts(spec_copy: Path) -> None:
    committed_path("huawei", spec_copy).unlink()
    assert [d.path.name for d in check_specs(spec_copy)] == ["evs-snapshot-huawei.yaml"]


def test_overlays_of_a_profile(spec_copy: Path) -> None:
    overlays = spec_copy / "overlays"
    assert [p.name for p in overlay_files("huawei", overlays)] == ["common.yaml"]
    assert [p.name for p in overlay_files("cinder", overlays)] == ["common.yaml", "cinder.yaml"]
    with pytest.raises(SpecError, match="unknown profile 'aws'"):
        overlay_files("aws", overlays)


def test_a_missing_page_is_an_error_naming_it(spec_copy: Path) -> None:
    with pytest.raises(SpecError, match=r"nowhere\.txt: no such file"):
        build_profile("huawei", spec_dir=spec_copy, page=spec_copy / "nowhere.txt")


def test_an_overlay_that_no_longer_fits_the_page_is_an_error(spec_copy: Path) -> None:
    page = spec_copy / "source" / "create-evs-snapshot.txt"
    text = page.read_text(encoding="utf-8")
    page.write_text(
        text.replace("status\n\nString\n\nThe snapshot status. For details, see EVS Snapshot Status.\n\n", "")
    )
    with pytest.raises(
        SpecError, match=r"^common\.yaml:\d+: merge /components/schemas/SnapshotSummary/properties/status"
    ):
        build_profile("huawei", spec_dir=spec_copy)
