"""The pytest plugin: options into settings, fixtures against the embedded mock, ledgers into reports."""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.requirements import load_requirements
from conformance.core.errors import UsageError
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.plugin.hooks import _budget_share
from conformance.plugin.options import dest
from conformance.plugin.options import run_settings as plugin_run_settings
from conformance.plugin.runtime import failure_message
from conformance.rules.checks.model import Outcome, Violation
from conformance.run.options import OPTIONS
from conformance.run.settings import RunSettings

pytest_plugins = ("pytester",)


def options(**changes: Any) -> argparse.Namespace:
    """A parsed ``--evs-*`` namespace: every option unset (None) but the ``changes``."""
    unset = {dest(option): None for option in OPTIONS.values() if option.plugin}
    assert set(changes) <= set(unset), set(changes) - set(unset)
    return argparse.Namespace(**{**unset, **changes})


def run_settings(namespace: argparse.Namespace) -> RunSettings:
    return plugin_run_settings(namespace, cwd=Path("/"))


# -- settings from options -----------------------------------------------------------------------------------
def test_no_base_url_means_the_embedded_mock() -> None:
    settings = run_settings(options(evs_lifecycle=False, evs_seed="3", evs_api_version="v3"))
    assert settings.target is None
    assert not settings.lifecycle
    assert settings.seed == 3
    assert settings.api_prefix == "/v3"


def test_an_external_target_takes_the_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVS_TOKEN", "from-env")
    settings = run_settings(options(evs_base_url="http://127.0.0.1:9", evs_project_id="p", evs_volume_id="v"))
    assert settings.target is not None
    assert settings.target.token == "from-env"
    assert "from-env" not in json.dumps(settings.target.public())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"evs_base_url": "http://127.0.0.1:9", "evs_token": "t"},
            "needs --evs-project-id, --evs-volume-id",
        ),
        ({"evs_base_url": "http://127.0.0.1:9", "evs_project_id": "p", "evs_volume_id": "v"}, "--evs-token"),
        (
            {"evs_base_url": "ftp://x", "evs_project_id": "p", "evs_volume_id": "v", "evs_token": "t"},
            "must be an http:// or https:// URL",
        ),
        ({"evs_project_id": "p"}, "--evs-project-id need --evs-base-url"),
        (
            {"evs_base_url": "http://h", "evs_mock_quirk": ["q"], "evs_token": "t"},
            "only applies to the embedded mock",
        ),
        ({"evs_examples": "0"}, "--evs-examples must be at least 1"),
        ({"evs_max_creates": "-1"}, "--evs-max-creates must not be negative"),
    ],
)
def test_options_that_cannot_work_are_usage_errors(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], message: str
) -> None:
    monkeypatch.delenv("EVS_TOKEN", raising=False)
    with pytest.raises(UsageError, match=message):
        run_settings(options(**changes))


@pytest.mark.parametrize(
    ("total", "workers", "shares"), [(10, 3, [4, 3, 3]), (1, 2, [1, 0]), (None, 2, [None, None])]
)
def test_the_create_budget_is_split_between_workers(
    total: int | None, workers: int, shares: list[int | None]
) -> None:
    got = [_budget_share(total, {"workercount": workers, "workerid": f"gw{i}"}) for i in range(workers)]
    assert got == shares


def test_failure_message_lists_violations_and_the_reproduction() -> None:
    exchange = Exchange(
        SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {}, b"{}"), Received(500, {}, b"")
    )
    outcome = Outcome(frozenset(), (Violation("RSP-NO-5XX", "no_server_error", "500", "4xx"),))
    message = failure_message(outcome, exchange)
    assert message.startswith("[RSP-NO-5XX] no_server_error\nReceived: 500")
    assert "Reproduce:\ncurl -i -X POST" in message


# -- the plugin in a pytest run against the embedded mock ---------------------------------------------------
SUITE = """
import pytest
from hypothesis import given, settings, strategies as st
from conformance.rules.oracle import expect
from conformance.rules.checks.model import Expectation

def body(volumes, **fields):
    return {"snapshot": {"volume_id": volumes.available_id, **fields}}

@pytest.mark.requirement("OP-ACCEPT")
def test_accepts(evs_target, evs_volumes, evs_contract, evs_verify):
    b = body(evs_volumes, name="x")
    evs_verify(evs_target.create(b), expect(evs_contract, b, evs_volumes, focus="OP-ACCEPT"))

@pytest.mark.requirement("REQ-NAME")
@settings(max_examples=8)
@given(name=st.text(max_size=5))
def test_names(evs_target, evs_volumes, evs_contract, evs_verify, name):
    b = body(evs_volumes, name=name)
    evs_verify(evs_target.create(b), expect(evs_contract, b, evs_volumes, focus="REQ-NAME"))

@pytest.mark.requirement("REQ-FORCE-FALSE")
def test_needs_config(evs_in_use_volume):
    pytest.skip("no in-use disk for this test")

@pytest.mark.requirement("LIFE-READ")
def test_lifecycle(evs_target):
    pass
"""

BROKEN = """
import pytest
from conformance.rules.checks.model import Expectation

@pytest.mark.requirement("REQ-JSON")
def test_wrongly_expects_a_refusal(evs_target, evs_volumes, evs_verify):
    exchange = evs_target.create({"snapshot": {"volume_id": evs_volumes.available_id}})
    evs_verify(exchange, Expectation("refuse", "REQ-JSON", "invalid-body", "a test that expects wrongly"))

@pytest.mark.requirement("REQ-METADATA")
def test_errors_outside_the_checks(evs_target):
    assert 1 == 2, "boom"
"""


def run(pytester: pytest.Pytester, source: str, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makepyfile(test_suite=source)
    reports = pytester.path / "reports"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--evs-reports={reports}", *args)
    path = reports / "conformance.json"
    return result, json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in report["requirements"]}


def test_a_run_reports_every_requirement(pytester: pytest.Pytester) -> None:
    result, report = run(pytester, SUITE, "--evs-no-lifecycle")
    result.assert_outcomes(passed=2, skipped=2)
    seen = verdicts(report)
    assert set(seen) == {r.id for r in load_requirements()}
    assert seen["OP-ACCEPT"] == "pass"
    assert seen["REQ-NAME"] == "pass"
    assert seen["LIFE-READ"] == "skip"
    rows = {row["id"]: row for row in report["requirements"]}
    assert "--evs-no-lifecycle" in rows["LIFE-READ"]["evidence"]
    assert "no in-use disk for this test" in rows["REQ-FORCE-FALSE"]["evidence"]
    assert report["verdict"] == "pass"
    assert report["target"]["embedded_mock"] is True
    assert report["stats"]["cases"] == 9
    assert report["stats"]["creates"] == 9
    assert "mock-token" not in (pytester.path / "reports" / "conformance.json").read_text(encoding="utf-8")
    assert (pytester.path / "reports" / "conformance.md").read_text(encoding="utf-8").startswith("# EVS")
    assert not (pytester.path / "reports" / ".ledger").exists()
    assert "evs-conformance: PASS" in result.stdout.str()


def test_failures_carry_a_reproduction_and_fail_the_run(pytester: pytest.Pytester) -> None:
    result, report = run(pytester, BROKEN)
    result.assert_outcomes(failed=2)
    rows = {row["id"]: row for row in report["requirements"]}
    assert report["verdict"] == "fail"
    assert rows["REQ-JSON"]["verdict"] == "fail"
    assert rows["REQ-JSON"]["reproduction"].startswith("curl -i -X POST")
    assert "$EVS_TOKEN" in rows["REQ-JSON"]["reproduction"]
    assert rows["REQ-METADATA"]["verdict"] == "fail"
    assert "failed outside the checks" in rows["REQ-METADATA"]["evidence"]
    assert "Reproduce:" in result.stdout.str()


def test_parallel_workers_merge_into_one_report(pytester: pytest.Pytester) -> None:
    result, report = run(pytester, SUITE, "-n", "2", "--evs-no-lifecycle")
    result.assert_outcomes(passed=2, skipped=2)
    assert verdicts(report)["OP-ACCEPT"] == "pass"
    assert report["stats"]["cases"] == 9


def test_a_spent_create_budget_skips_tests(pytester: pytest.Pytester) -> None:
    result, report = run(pytester, SUITE, "--evs-max-creates=1", "--evs-no-lifecycle")
    result.assert_outcomes(passed=1, skipped=3)
    assert report["stats"]["creates"] == 1
    rows = {row["id"]: row for row in report["requirements"]}
    assert "create budget" in rows["REQ-NAME"]["evidence"]


def test_an_unreachable_target_stops_the_run_with_one_line(pytester: pytest.Pytester) -> None:
    result, _ = run(
        pytester,
        SUITE,
        "--evs-base-url=http://127.0.0.1:9",
        "--evs-project-id=p",
        "--evs-volume-id=v",
        "--evs-token=t",
    )
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*evs-conformance: error: http://127.0.0.1:9 is not reachable*"])


def test_our_own_test_runs_write_no_reports(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_an_external_target_is_checked_and_cleaned_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.mock.server import MockConfig, serve_in_thread

    with serve_in_thread(MockConfig()) as mock:
        monkeypatch.setenv("EVS_TOKEN", mock.token)
        result, report = run(
            pytester,
            SUITE,
            f"--evs-base-url={mock.base_url}",
            f"--evs-project-id={mock.project_id}",
            f"--evs-volume-id={mock.available_volume_id}",
            "--evs-no-lifecycle",
        )
        # urllib, not httpx: pytester forgets modules first imported in a test, httpcore's among them.
        request = urllib.request.Request(f"{mock.api_url}/snapshots", headers={"X-Auth-Token": mock.token})
        with urllib.request.urlopen(request) as answer:
            listed = json.load(answer)
    result.assert_outcomes(passed=2, skipped=2)
    assert report["target"]["embedded_mock"] is False
    assert report["target"]["in_use_volume_id"] is None
    assert "--in-use-volume-id" in {r["id"]: r for r in report["requirements"]}["REQ-FORCE-FALSE"]["evidence"]
    assert listed == {"snapshots": []}


def test_a_disk_in_the_wrong_state_stops_the_run(pytester: pytest.Pytester) -> None:
    from conformance.mock.server import MockConfig, serve_in_thread

    with serve_in_thread(MockConfig()) as mock:
        result, _ = run(
            pytester,
            SUITE,
            f"--evs-base-url={mock.base_url}",
            f"--evs-project-id={mock.project_id}",
            f"--evs-volume-id={mock.in_use_volume_id}",
            f"--evs-token={mock.token}",
        )
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*evs-conformance: error: disk * is 'in-use', not 'available'*"])


# -- secrets, budget order, dry run ----------------------------------------------------------------------
LEAKY = """
import pytest

@pytest.mark.requirement("REQ-JSON")
def test_a_message_holding_the_token(evs_target):
    print("output " + evs_target.settings.token)
    raise AssertionError("the target echoed " + evs_target.settings.token)
"""


def test_a_token_in_a_failure_is_masked_everywhere_pytest_writes(pytester: pytest.Pytester) -> None:
    from conformance.mock.server import MockConfig, serve_in_thread

    token = "plugin-secret-token-7a6b5c"
    with serve_in_thread(MockConfig(token=token)) as mock:
        result, report = run(
            pytester,
            LEAKY,
            f"--evs-base-url={mock.base_url}",
            f"--evs-project-id={mock.project_id}",
            f"--evs-volume-id={mock.available_volume_id}",
            f"--evs-token={token}",
            f"--junitxml={pytester.path / 'junit.xml'}",
        )
    result.assert_outcomes(failed=1)
    assert "the target echoed ***" in result.stdout.str()
    assert token not in result.stdout.str() + result.stderr.str()
    written = [p for p in (pytester.path / "reports").rglob("*") if p.is_file()]
    assert any(p.parent.name == "allure-results" for p in written)
    for path in [*written, pytester.path / "junit.xml"]:
        assert token not in path.read_text(encoding="utf-8", errors="replace"), path
    assert "the target echoed ***" in (pytester.path / "junit.xml").read_text(encoding="utf-8")
    assert {r["id"]: r for r in report["requirements"]}["REQ-JSON"]["verdict"] == "fail"


ORDERED = """
import pytest
from hypothesis import given, strategies as st

@pytest.mark.requirement("OP-ACCEPT", "RSP-ECHO", "REQ-NAME")
def test_broad(evs_target):
    pass

@pytest.mark.requirement("OP-ACCEPT")
@given(st.integers())
def test_generated(evs_target, n):
    pass

@pytest.mark.requirement("REQ-JSON")
def test_refused(evs_target):
    pass

@pytest.mark.requirement("OP-ACCEPT")
def test_focused(evs_target):
    pass
"""


def test_a_budget_runs_focused_and_refused_tests_before_generated_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=ORDERED)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--evs-max-creates=5", "--collect-only", "-q"
    )
    names = [line.split("::")[-1] for line in result.stdout.lines if "::" in line]
    # REQ-NAME and RSP-ECHO only come with test_broad, so it is focused too; the property test is last.
    assert names == ["test_refused", "test_broad", "test_focused", "test_generated"]
    unbudgeted = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q")
    assert [line.split("::")[-1] for line in unbudgeted.stdout.lines if "::" in line] == [
        "test_broad",
        "test_generated",
        "test_refused",
        "test_focused",
    ]


def test_a_dry_run_prints_the_plan_and_runs_nothing(pytester: pytest.Pytester) -> None:
    result, report = run(pytester, SUITE, "--evs-dry-run", "--evs-max-creates=4")
    assert result.ret == 0
    out = result.stdout.str()
    assert "evs-conformance: dry run, nothing is sent" in out
    assert "target:   the embedded mock (started by the run)" in out
    assert "creates:  at most 4 (--evs-max-creates)" in out
    assert "    REQ-NAME: test_suite.py::test_names" in out
    assert "    REQ-SNAPSHOT: no selected test (skip)" in out
    assert report == {}
