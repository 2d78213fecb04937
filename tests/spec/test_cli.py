"""``evs-conformance spec build|check``: outputs, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.cli.spec import run_check
from conformance.contract import spec_path
from tests.spec.conftest import edited, page_text


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["spec", *args])
    return result.exit_code, result.stdout, result.stderr


def test_build_to_stdout_equals_the_committed_file() -> None:
    code, out, _ = _run("build", "--profile", "cinder", "--output", "-")
    assert code == 0
    assert out == spec_path("cinder").read_text(encoding="utf-8")


def test_build_writes_the_output_path(tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    code, _, err = _run("build", "--output", str(target))
    assert code == 0
    assert f"wrote {target}" in err
    assert target.read_text(encoding="utf-8") == spec_path("huawei").read_text(encoding="utf-8")


def test_build_from_an_edited_page(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(edited(page_text(), "up to 85 characters", "up to 90 characters"), encoding="utf-8")
    code, out, _ = _run("build", "--source", str(page), "--output", "-")
    assert code == 0
    assert "maxLength: 90" in out
    assert "x-source-document: page.txt" in out


def test_check_passes_on_the_committed_files() -> None:
    code, _, err = _run("check")
    assert code == 0
    assert "up to date" in err


def test_check_fails_with_a_diff_on_a_drifted_copy(
    spec_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec_copy / "evs-snapshot-huawei.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("maxLength: 64", "maxLength: 99"))
    assert run_check(spec_copy) == 1
    captured = capsys.readouterr()
    assert "-          maxLength: 99\n+          maxLength: 64\n" in captured.out
    assert "differ from a fresh build" in captured.err


def _bad_page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "bad.txt"
    page.write_text(text, encoding="utf-8")
    return page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Widgets\n\nURI\n\nGET /v1/widgets\n\nNo tables here.\n", r"bad\.txt:1: no recognisable tables"),
        (
            edited(page_text(), "project_id\n\nYes", "Project identifier\n\nYes"),
            r"bad\.txt:\d+: Table 1 Path Parameters: cannot parse a row",
        ),
        (
            edited(page_text(), "Error object", "Fault object"),
            r"bad\.txt:\d+: Table 7 .*/error: type 'Fault' is never defined",
        ),
    ],
)
def test_bad_pages_exit_2_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    code, out, err = _run("build", "--source", str(_bad_page(tmp_path, text)), "--output", "-")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert re.match(rf"evs-conformance: error: {message}", err)


def test_a_missing_page_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A short relative path: a long one is shortened in the message, as every quoted input is.
    monkeypatch.chdir(tmp_path)
    code, _, err = _run("build", "--source", "missing.txt", "--output", "-")
    assert code == 2
    expected = "cannot read the API page (--source) 'missing.txt': No such file or directory"
    assert err == f"evs-conformance: error: {expected}\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [("/dev/zero", "not a regular file"), ("fifo", "not a regular file"), ("binary", "is not UTF-8 text")],
)
def test_a_page_that_is_not_a_text_file_exits_2_at_once(tmp_path: Path, source: str, message: str) -> None:
    if source == "binary":
        source = str(tmp_path / "binary.txt")
        Path(source).write_bytes(b"Create a Snapshot \xff\xfe")
    elif source == "fifo":
        # Nobody writes to it: reading it would wait for ever.
        source = str(tmp_path / "fifo")
        os.mkfifo(source)
    code, _, err = _run("build", "--source", source, "--output", "-")
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("/dev/null/x", "is under /dev, a system folder"),
        ("/proc/self/x.yaml", "is under /proc, a system folder"),
        ("{tmp}", "is a folder; give a file name"),
        ("{tmp}/file.txt/x.yaml", "which is a file, not a folder"),
        ("{tmp}/missing/x.yaml", "does not exist"),
        ("{tmp}/link.yaml", "is a symbolic link"),
    ],
)
def test_an_unusable_output_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, output: str, message: str
) -> None:
    (tmp_path / "file.txt").write_text("mine")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "file.txt")
    code, out, err = _run("build", "--output", output.format(tmp=tmp_path))
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err + out
    assert (tmp_path / "file.txt").read_text() == "mine"


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    page = _bad_page(tmp_path, page_text().replace("Error object", "Fault object"))
    script = Path(sys.executable).parent / "evs-conformance"
    done = subprocess.run(
        [str(script), "spec", "build", "--source", str(page), "--output", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("evs-conformance: error: bad.txt:")
    assert done.stderr.count("\n") == 1
