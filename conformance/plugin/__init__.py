"""The pytest plugin that runs the shipped suite against an endpoint (or the embedded mock) and reports.

It reads the ``--evs-*`` options once into a frozen ``RunSettings``, gives the suite its fixtures
(``evs_target``, ``evs_verify``, ...), records every checked exchange in a per-process ledger, and on the
controlling process merges the ledgers into ``conformance.json`` and ``conformance.md``.

Example::

    pytest --pyargs conformance.suite                                   # against a fresh embedded mock
    pytest --pyargs conformance.suite --evs-base-url https://evs.example --evs-project-id P \\
        --evs-token "$EVS_TOKEN" --evs-volume-id V -n 4
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.contract import PROFILES, Contract
from conformance.errors import ToolError, UsageError
from conformance.exchange import Exchange
from conformance.ledger import Ledger
from conformance.plugin.runtime import SuiteRuntime, failure_message
from conformance.settings import API_VERSIONS, RunSettings, TargetSettings
from conformance.target import Target

if TYPE_CHECKING:
    from conformance.checks.model import Outcome
    from conformance.oracle import Volumes

#: The environment variable the token may come from (so it stays out of process listings and shell history).
TOKEN_VARIABLE = "EVS_TOKEN"
MARKER = "requirement"
#: Requirements about what follows a create; ``--evs-no-lifecycle`` skips their tests.
LIFECYCLE_PREFIX = "LIFE-"
HYPOTHESIS_PROFILE = "evs-conformance"
_SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"
_RUNTIME = pytest.StashKey["SuiteRuntime"]()
_WORKER_RUN_ID = "evs_run_id"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("evs-conformance", "EVS snapshot conformance suite")
    add = group.addoption
    add("--evs-base-url", help="endpoint to test (default: start the embedded mock)")
    add("--evs-profile", choices=PROFILES, default="huawei", help="contract profile (default: huawei)")
    add("--evs-api-version", choices=API_VERSIONS, help="override the profile's path prefix")
    add("--evs-project-id", help="project ID of the target")
    add("--evs-token", help=f"token for the target (default: ${TOKEN_VARIABLE})")
    add("--evs-volume-id", help="an available disk of the project")
    add("--evs-in-use-volume-id", help="a disk attached to a server (its force rules are skipped without it)")
    add("--evs-reports", default="reports", help="directory for conformance.json/.md (default: reports)")
    add("--evs-examples", type=int, default=100, help="Hypothesis examples per property test (default: 100)")
    add("--evs-seed", type=int, help="seed for generated cases (default: derandomized, fixed per test)")
    add("--evs-no-lifecycle", action="store_true", help="skip read-back/settle/delete requirements")
    add("--evs-max-creates", type=int, help="most snapshots the run may create (default: no limit)")
    add("--evs-settle-timeout", type=float, default=30.0, help="seconds a snapshot may take to settle")
    add(
        "--evs-no-shrink",
        action="store_true",
        help="report failing generated cases as found, without shrinking them (faster, bigger cases)",
    )
    add(
        "--evs-mock-quirk",
        action="append",
        default=[],
        metavar="NAME",
        help="for testing the suite itself: switch a deviation of the embedded mock on (repeatable)",
    )
    add(
        "--evs-embedded-mock",
        action="store_true",
        help="for evs-conformance run: the --evs-base-url target is a mock it started",
    )


def run_settings(option: Any) -> RunSettings:
    """The frozen settings of a run, from parsed ``--evs-*`` options; raises UsageError when they clash."""
    token = option.evs_token if option.evs_token is not None else os.environ.get(TOKEN_VARIABLE)
    target: TargetSettings | None = None
    if option.evs_base_url:
        if option.evs_mock_quirk:
            raise UsageError("--evs-mock-quirk only applies to the embedded mock (drop --evs-base-url)")
        missing = [
            flag
            for flag, value in (
                ("--evs-project-id", option.evs_project_id),
                ("--evs-volume-id", option.evs_volume_id),
            )
            if not value
        ]
        if missing:
            raise UsageError(f"testing {option.evs_base_url} needs {' and '.join(missing)}")
        if not token:
            raise UsageError(f"testing {option.evs_base_url} needs --evs-token (or ${TOKEN_VARIABLE})")
        target = TargetSettings(
            base_url=option.evs_base_url,
            project_id=option.evs_project_id,
            token=token,
            available_volume_id=option.evs_volume_id,
            in_use_volume_id=option.evs_in_use_volume_id,
            embedded_mock=option.evs_embedded_mock,
        )
    else:
        stray = [
            flag
            for flag, value in (
                ("--evs-project-id", option.evs_project_id),
                ("--evs-volume-id", option.evs_volume_id),
                ("--evs-in-use-volume-id", option.evs_in_use_volume_id),
            )
            if value
        ]
        if stray:
            raise UsageError(f"{', '.join(stray)} need --evs-base-url (the embedded mock has its own)")
    if option.evs_max_creates is not None and option.evs_max_creates < 0:
        raise UsageError("--evs-max-creates must be zero or more")
    return RunSettings(
        profile=option.evs_profile,
        target=target,
        reports_dir=Path(option.evs_reports),
        api_version=option.evs_api_version,
        examples=option.evs_examples,
        seed=option.evs_seed,
        lifecycle=not option.evs_no_lifecycle,
        settle_timeout_s=option.evs_settle_timeout,
        mock_quirks=tuple(option.evs_mock_quirk),
        max_creates=option.evs_max_creates,
        shrink=not option.evs_no_shrink,
    )


# -- configuration -----------------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): the requirement IDs of the catalogue that the test exercises"
    )
    try:
        settings = run_settings(config.option)
    except ToolError as exc:
        raise pytest.UsageError(str(exc)) from exc
    workerinput = getattr(config, "workerinput", None)
    run_id = workerinput[_WORKER_RUN_ID] if workerinput else uuid.uuid4().hex[:12]
    worker = workerinput["workerid"] if workerinput else "main"
    share = _budget_share(settings.max_creates, workerinput)
    config.stash[_RUNTIME] = SuiteRuntime(
        settings, run_id=run_id, worker=worker, controller=workerinput is None, max_creates=share
    )
    _register_hypothesis_profile(settings)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand every pytest-xdist worker the run's identity so its ledger is merged with the others."""
    node.workerinput[_WORKER_RUN_ID] = node.config.stash[_RUNTIME].run_id


def _budget_share(total: int | None, workerinput: dict[str, Any] | None) -> int | None:
    """This process's part of the create budget: the budget split evenly between the workers."""
    if total is None or not workerinput:
        return total
    count = int(workerinput.get("workercount", 1))
    index = int(str(workerinput.get("workerid", "gw0")).removeprefix("gw") or 0)
    return total // count + (1 if index < total % count else 0)


def _register_hypothesis_profile(settings: RunSettings) -> None:
    from hypothesis import HealthCheck, Phase
    from hypothesis import settings as hypothesis_settings

    phases = [p for p in Phase if p is not Phase.explain and (settings.shrink or p is not Phase.shrink)]
    hypothesis_settings.register_profile(
        HYPOTHESIS_PROFILE,
        max_examples=settings.examples,
        # Without a seed every test draws the same cases on every run; a seed picks other, repeatable ones.
        derandomize=settings.seed is None,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    )


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Load the suite's Hypothesis profile before the suite's modules are imported, and only then."""
    runtime = collector.config.stash.get(_RUNTIME, None)
    if runtime is None or runtime.active:
        return
    path = getattr(collector, "path", None)
    if path is not None and _in_suite(Path(path)):
        from hypothesis import settings as hypothesis_settings

        hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)
        runtime.active = True


def _in_suite(path: Path) -> bool:
    return path.resolve().is_relative_to(_SUITE_DIR)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each requirement test its Allure marks (read once per test) and the run's seed."""
    runtime = config.stash[_RUNTIME]
    marked = [(item, ids) for item in items if (ids := requirement_ids(item))]
    if not marked:
        return
    from hypothesis import seed

    from conformance.report.allure import requirement_marks

    catalogue = runtime.catalogue()
    for item, ids in marked:
        for mark in requirement_marks(ids, runtime.contract, catalogue):
            item.add_marker(mark)
        obj = getattr(item, "obj", None)
        function: Any = getattr(obj, "__func__", obj)
        if runtime.settings.seed is not None and getattr(function, "is_hypothesis_test", False):
            seed(runtime.settings.seed)(function)


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """The requirement IDs a test carries, in marker order, without repeats."""
    ids: dict[str, None] = {}
    for mark in item.iter_markers(MARKER):
        ids.update(dict.fromkeys(str(arg) for arg in mark.args))
    return tuple(ids)


# -- running tests -----------------------------------------------------------------------------------------
def pytest_runtest_setup(item: pytest.Item) -> None:
    runtime = item.config.stash[_RUNTIME]
    ids = requirement_ids(item)
    if not ids:
        return
    runtime.begin_test(item.nodeid)
    if not runtime.settings.lifecycle and all(i.startswith(LIFECYCLE_PREFIX) for i in ids):
        pytest.skip("lifecycle checks are off (--no-lifecycle)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After the test body, attach its sample and failing exchanges (once per test, not per example)."""
    try:
        return (yield)
    finally:
        if requirement_ids(item):
            item.config.stash[_RUNTIME].attach_evidence()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    ids = requirement_ids(item)
    if ids:
        item.config.stash[_RUNTIME].note_report(ids, report)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    runtime = session.config.stash.get(_RUNTIME, None)
    if runtime is None or session.config.option.collectonly:
        return
    runtime.finish()
    if runtime.controller:
        runtime.write_reports()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    runtime = config.stash.get(_RUNTIME, None)
    if runtime is None or runtime.summary is None:
        return
    for line in runtime.summary:
        terminalreporter.write_line(line)


# -- fixtures the suite uses -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def evs_runtime(pytestconfig: pytest.Config) -> SuiteRuntime:
    """The run's shared state, started on first use (the embedded mock, the client, the disks)."""
    runtime = pytestconfig.stash[_RUNTIME]
    try:
        runtime.start()
    except ToolError as exc:
        pytest.exit(f"evs-conformance: error: {exc}", returncode=2)
    return runtime


@pytest.fixture(scope="session")
def evs_settings(evs_runtime: SuiteRuntime) -> RunSettings:
    """The run's frozen settings, with the target resolved (the embedded mock's address when it runs)."""
    return evs_runtime.settings


@pytest.fixture(scope="session")
def evs_contract(evs_runtime: SuiteRuntime) -> Contract:
    return evs_runtime.contract


@pytest.fixture(scope="session")
def evs_target(evs_runtime: SuiteRuntime) -> Target:
    return evs_runtime.target


@pytest.fixture(scope="session")
def evs_volumes(evs_runtime: SuiteRuntime) -> Volumes:
    return evs_runtime.volumes


@pytest.fixture(scope="session")
def evs_in_use_volume(evs_runtime: SuiteRuntime) -> str:
    """The in-use disk's ID; tests that need one are skipped when none was given."""
    in_use = evs_runtime.volumes.in_use_id
    if in_use is None:
        pytest.skip("no in-use disk configured (--in-use-volume-id)")
    return in_use


@pytest.fixture(scope="session")
def evs_ledger(evs_runtime: SuiteRuntime) -> Ledger:
    return evs_runtime.ledger


@pytest.fixture(scope="session")
def evs_verify(evs_runtime: SuiteRuntime) -> Callable[..., Outcome]:
    """``evs_verify(exchange, expectation, *, volume_size=None)``: check a create, fail on violations."""
    return evs_runtime.verify


@pytest.fixture(scope="session")
def evs_conclude(evs_runtime: SuiteRuntime) -> Callable[[Outcome, Exchange], Outcome]:
    """``evs_conclude(outcome, exchange)``: record an outcome of another check and fail on its violations."""
    return evs_runtime.conclude


__all__ = ["SuiteRuntime", "failure_message", "requirement_ids", "run_settings"]
