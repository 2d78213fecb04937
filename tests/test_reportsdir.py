"""The reports folder: a run writes, scrubs and removes only what it wrote; other folders are refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conformance.core.errors import UsageError
from conformance.run.reportsdir import MANIFEST, ReportsDir

SECRET = "s3cret-token-value"


def mask(text: str) -> str:
    return text.replace(SECRET, "***")


def a_run(folder: Path, *, secret_in_output: bool = True) -> ReportsDir:
    """What a run does with its folder: prepare, remove the last run's files, claim, write, scrub."""
    reports = ReportsDir.prepare(folder)
    reports.remove_previous()
    reports.claim("conformance.json").write_text(f'{{"token": "{SECRET if secret_in_output else "-"}"}}')
    allure = reports.claim("allure-results")
    allure.mkdir()
    (allure / "a-result.json").write_text(f"token {SECRET}")
    reports.scrub(mask)
    return reports


def test_a_missing_folder_is_created_and_listed_in_the_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "reports"
    reports = a_run(folder)
    assert reports.path == folder
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest == {"written_by": "evs-conformance", "entries": ["conformance.json", "allure-results"]}
    assert (folder / "conformance.json").read_text() == '{"token": "***"}'
    assert (folder / "allure-results" / "a-result.json").read_text() == "token ***"


def test_a_folder_an_earlier_run_wrote_is_reused_and_only_its_files_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    a_run(folder)
    (folder / "allure-results" / "stale.json").write_text("old")
    a_run(folder, secret_in_output=False)
    assert sorted(p.name for p in (folder / "allure-results").iterdir()) == ["a-result.json"]
    assert (folder / "conformance.json").read_text() == '{"token": "-"}'


def test_a_user_file_is_left_byte_for_byte_unchanged(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(f"EVS_TOKEN={SECRET}\n".encode())
    (tmp_path / "notes.txt").write_bytes(b"\xff\xfe not even UTF-8 " + SECRET.encode())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(UsageError, match=r"holds files no earlier run wrote \(\.env, notes\.txt\)") as caught:
        ReportsDir.prepare(tmp_path)
    assert "choose an empty or new folder" in str(caught.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_tolerated_files_stay_untouched_beside_the_reports(tmp_path: Path) -> None:
    for name in (".gitignore", ".gitkeep", "README.md"):
        (tmp_path / name).write_text(f"{name} mentions {SECRET}")
    reports = a_run(tmp_path)
    a_run(tmp_path)
    for name in (".gitignore", ".gitkeep", "README.md"):
        assert (tmp_path / name).read_text() == f"{name} mentions {SECRET}"
    assert all(
        path.parent.name != tmp_path.name or path.name != "README.md" for path in reports.written_files()
    )


def test_a_file_added_beside_an_earlier_run_makes_the_folder_refused(tmp_path: Path) -> None:
    a_run(tmp_path)
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match=r"mine\.txt"):
        ReportsDir.prepare(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_remove_previous_removes_only_what_the_manifest_listed(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("old")
    (tmp_path / MANIFEST).write_text(json.dumps({"written_by": "evs-conformance", "entries": ["junit.xml"]}))
    (tmp_path / ".gitignore").write_text("*")
    reports = ReportsDir.prepare(tmp_path)
    assert reports.previous == ("junit.xml",)
    assert reports.remove_previous() == [tmp_path / "junit.xml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, ".gitignore"]
    assert json.loads((tmp_path / MANIFEST).read_text())["entries"] == []


@pytest.mark.parametrize(
    "entries",
    [["../outside.txt"], ["/etc/passwd"], [".."], ["a/../../b"], [".gitignore"], [MANIFEST], [""], [7]],
)
def test_a_manifest_that_points_outside_the_folder_is_refused(tmp_path: Path, entries: list[object]) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (tmp_path / "outside.txt").write_text("keep me")
    (folder / MANIFEST).write_text(json.dumps({"written_by": "evs-conformance", "entries": entries}))
    with pytest.raises(UsageError, match="is not a manifest this tool wrote"):
        ReportsDir.prepare(folder)
    assert (tmp_path / "outside.txt").read_text() == "keep me"


@pytest.mark.parametrize("content", ["not json", "[]", '{"entries": []}', "x" * 70_000, "[" * 100_000])
def test_an_unreadable_manifest_is_refused(tmp_path: Path, content: str) -> None:
    (tmp_path / MANIFEST).write_text(content)
    with pytest.raises(UsageError, match="is not a manifest this tool wrote"):
        ReportsDir.prepare(tmp_path)


def test_claims_that_could_leave_the_folder_or_touch_other_files_are_refused(tmp_path: Path) -> None:
    reports = ReportsDir.prepare(tmp_path / "reports")
    for bad in ("../x", "/abs", "", "README.md", MANIFEST, "a/./b"):
        with pytest.raises(UsageError, match="is not a name a run may write"):
            reports.claim(bad)
    assert reports.claimed == ()


def test_scrub_rewrites_only_claimed_files(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    reports = ReportsDir.prepare(folder)
    claimed = reports.claim("conformance.md")
    claimed.write_text(SECRET)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text(SECRET)
    # A link inside a claimed folder is not followed.
    allure = reports.claim("allure-results")
    allure.mkdir()
    (allure / "link.txt").symlink_to(outside)
    assert reports.scrub(mask) == [claimed]
    assert claimed.read_text() == "***"
    assert outside.read_text() == SECRET


# -- refused folders ---------------------------------------------------------------------------------------
def test_the_root_is_refused() -> None:
    with pytest.raises(UsageError, match="is the root of the file system"):
        ReportsDir.prepare("/")


@pytest.mark.parametrize("path", ["/proc/self", "/sys/kernel", "/dev/shm/reports", "/dev/null/x"])
def test_system_folders_are_refused(path: str) -> None:
    with pytest.raises(UsageError, match="a system folder"):
        ReportsDir.prepare(path)


def test_an_existing_file_and_a_path_under_a_file_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "report.txt"
    file.write_text("mine")
    with pytest.raises(UsageError, match="exists and is not a folder"):
        ReportsDir.prepare(file)
    with pytest.raises(UsageError, match="which is a file, not a folder"):
        ReportsDir.prepare(file / "sub")
    assert file.read_text() == "mine"


def test_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(UsageError, match="is a symbolic link"):
        ReportsDir.prepare(tmp_path / "link")


def test_a_symlinked_sub_folder_the_run_would_write_into_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "allure-results").symlink_to(elsewhere)
    (folder / MANIFEST).write_text(
        json.dumps({"written_by": "evs-conformance", "entries": ["allure-results"]})
    )
    with pytest.raises(UsageError, match="is a symbolic link"):
        ReportsDir.prepare(folder)
    reports = ReportsDir.prepare(tmp_path / "fresh")
    os.symlink(elsewhere, tmp_path / "fresh" / "allure-results")
    with pytest.raises(UsageError, match="symbolic link"):
        reports.claim("allure-results/result.json")
    assert list(elsewhere.iterdir()) == []


def test_a_parent_that_is_a_link_is_fine(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "via").symlink_to(real)
    reports = ReportsDir.prepare(tmp_path / "via" / "reports")
    assert (real / "reports").is_dir()
    assert reports.path == tmp_path / "via" / "reports"
