"""``evs-conformance run``: options into a pytest command line, one-line errors, exit codes, the reports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.cli.run import RunOptions, clean_reports, pytest_args


def options(**changes: object) -> RunOptions:
    values: dict[str, object] = {
        "base_url": None,
        "profile": "huawei",
        "project_id": None,
        "token": None,
        "volume_id": None,
        "in_use_volume_id": None,
        "reports": Path("out"),
        "examples": 20,
        "seed": None,
        "workers": 1,
        "lifecycle": True,
        "max_creates": None,
        "api_version": None,
    }
    values.update(changes)
    return RunOptions(**values)  # type: ignore[arg-type]


def test_the_embedded_mock_run_needs_only_the_suite_and_reports() -> None:
    args = pytest_args(options())
    assert args[:2] == ["--pyargs", "conformance.suite"]
    assert "--alluredir=out/allure-results" in args
    assert "--junitxml=out/junit.xml" in args
    assert "--evs-reports=out" in args
    assert "--evs-examples=20" in args
    assert ["-c", os.devnull] == args[args.index("-c") : args.index("-c") + 2]
    assert not any(a.startswith(("--evs-base-url", "-n")) for a in args)


def test_every_option_reaches_the_plugin_except_the_token() -> None:
    args = pytest_args(
        options(
            base_url="http://127.0.0.1:9",
            project_id="p",
            token="secret",
            volume_id="v",
            in_use_volume_id="u",
            seed=5,
            workers=3,
            lifecycle=False,
            max_creates=7,
            api_version="v3",
            profile="cinder",
        )
    )
    for expected in (
        "--evs-base-url=http://127.0.0.1:9",
        "--evs-project-id=p",
        "--evs-volume-id=v",
        "--evs-in-use-volume-id=u",
        "--evs-seed=5",
        "--evs-no-lifecycle",
        "--evs-max-creates=7",
        "--evs-api-version=v3",
        "--evs-profile=cinder",
    ):
        assert expected in args
    assert args[args.index("-n") + 1] == "3"
    assert not any("secret" in a for a in args)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--examples", "0"], "--examples must be at least 1"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--max-creates", "-1"], "--max-creates must be zero or more"),
        (["--project-id", "p"], "--project-id need --base-url"),
        (["--base-url", "http://127.0.0.1:9", "--token", "t"], "needs --project-id, --volume-id"),
        (["--base-url", "127.0.0.1:9"], "must start with http://"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    monkeypatch.delenv("EVS_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), *argv])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_target_is_exit_2(tmp_path: Path) -> None:
    argv = ["--base-url", "http://127.0.0.1:9", "--project-id", "p", "--volume-id", "v", "--token", "t"]
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), *argv])
    assert result.exit_code == 2
    assert "http://127.0.0.1:9 is not reachable" in result.output


def test_clean_reports_removes_only_earlier_results(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "x-result.json").write_text("{}")
    (tmp_path / "conformance.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    clean_reports(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_run_against_the_embedded_mock_passes_and_writes_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), "--examples", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "pass"
    assert report["target"]["embedded_mock"] is True
    assert report["stats"]["cases"] > 0
    assert (tmp_path / "junit.xml").exists()
    assert any((tmp_path / "allure-results").iterdir())
    assert (tmp_path / "conformance.md").exists()


@pytest.mark.slow
def test_workers_share_one_mock_and_one_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["run", "--reports", str(tmp_path), "--examples", "3", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "pass"
    assert report["target"]["embedded_mock"] is True
    assert not (tmp_path / ".ledger").exists()
