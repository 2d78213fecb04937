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
import random
import time
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.contract import PROFILES, Contract, load_contract
from conformance.errors import ToolError, UsageError
from conformance.exchange import Exchange
from conformance.ledger import Ledger
from conformance.settings import API_VERSIONS, RunSettings, TargetSettings
from conformance.target import BudgetExhausted, Target

if TYPE_CHECKING:
    from conformance.checks.model import Expectation, Outcome
    from conformance.oracle import Volumes
    from conformance.requirements import Requirement

#: The environment variable the token may come from (so it stays out of process listings and shell history).
TOKEN_VARIABLE = "EVS_TOKEN"
MARKER = "requirement"
#: Requirements about what follows a create; ``--evs-no-lifecycle`` skips their tests.
LIFECYCLE_PREFIX = "LIFE-"
HYPOTHESIS_PROFILE = "evs-conformance"
_SUITE_DIR = Path(__file__).resolve().parent / "suite"
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
    runtime = item.config.stash[_RUNTIME]
    try:
        return (yield)
    except BudgetExhausted as exc:
        pytest.skip(f"{exc} (--max-creates)")
    except BaseExceptionGroup as group:
        budget, _ = group.split(BudgetExhausted)
        if budget is not None and len(budget.exceptions) == len(group.exceptions):
            pytest.skip(f"{budget.exceptions[0]} (--max-creates)")
        raise
    finally:
        if requirement_ids(item):
            runtime.attach_evidence()


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


# -- the run's shared state ----------------------------------------------------------------------------------
class _SuiteTarget(Target):
    """The target as tests see it: once the create budget is spent, a create skips the test."""

    def create(self, *args: Any, **kwargs: Any) -> Exchange:
        try:
            return super().create(*args, **kwargs)
        except BudgetExhausted as exc:
            # A skip, not an error: Hypothesis lets it through at once instead of shrinking it.
            pytest.skip(f"{exc} (--max-creates)")


class _TestEvidence:
    """What one test produced for Allure: a sample exchange and the last (minimal) failing one."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.sample: Exchange | None = None
        self.failure: Exchange | None = None


class SuiteRuntime:
    """One process's view of the run: settings, contract, target, disks, ledger, and the test in progress."""

    def __init__(
        self, settings: RunSettings, *, run_id: str, worker: str, controller: bool, max_creates: int | None
    ) -> None:
        self.settings = settings
        self.run_id = run_id
        self.worker = worker
        self.controller = controller
        self.max_creates = max_creates
        self.active = False
        self.summary: list[str] | None = None
        self.ledger = Ledger(self.ledger_dir / f"{run_id}-{worker}.jsonl")
        self.seen_ids: set[str] = set()
        self._began = time.monotonic()
        self._contract: Contract | None = None
        self._target: _SuiteTarget | None = None
        self._volumes: Volumes | None = None
        self._mock: Any = None
        self._test: _TestEvidence | None = None
        self._catalogue: dict[str, Requirement] | None = None

    @property
    def ledger_dir(self) -> Path:
        return self.settings.reports_dir / ".ledger"

    @property
    def contract(self) -> Contract:
        if self._contract is None:
            try:
                self._contract = load_contract(self.settings.profile, api_prefix=self.settings.api_prefix)
            except ToolError as exc:
                raise pytest.UsageError(str(exc)) from exc
        return self._contract

    @property
    def target(self) -> Target:
        assert self._target is not None, "the runtime has not started"
        return self._target

    @property
    def volumes(self) -> Volumes:
        assert self._volumes is not None, "the runtime has not started"
        return self._volumes

    def catalogue(self) -> dict[str, Requirement]:
        if self._catalogue is None:
            from conformance.requirements import load_requirements

            self._catalogue = {r.id: r for r in load_requirements()}
        return self._catalogue

    # -- start and stop -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the embedded mock when no target was given, open the client, and check the disks."""
        if self._target is not None:
            return
        self.active = True
        target_settings = self.settings.target or self._start_mock()
        self.settings = _replace(self.settings, target=target_settings)
        self._target = _SuiteTarget(self.contract, target_settings, max_creates=self.max_creates)
        from conformance.oracle import Volumes
        from conformance.target import check_disks

        disks = check_disks(
            self._target, target_settings.available_volume_id, target_settings.in_use_volume_id
        )
        busy = [d.status for d in disks if d.id == target_settings.in_use_volume_id]
        # The unknown disk comes from the run's seed, so a reproduction names the same ID.
        rng = random.Random(self.settings.case_seed)
        self._volumes = Volumes(
            available_id=target_settings.available_volume_id,
            in_use_id=target_settings.in_use_volume_id,
            busy_status=busy[0] if busy else None,
            unknown_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            sizes={d.id: d.size for d in disks},
        )
        self.ledger.describe(target_settings.public())

    def _start_mock(self) -> TargetSettings:
        from conformance.mock.server import MockConfig, serve_in_thread

        config = MockConfig(
            profile=self.settings.profile,
            quirks=frozenset(self.settings.mock_quirks),
            seed=self.settings.case_seed,
            api_prefix=self.settings.api_prefix,
        )
        context = serve_in_thread(config)
        mock = context.__enter__()
        self._mock = context
        return TargetSettings(
            base_url=mock.base_url,
            project_id=mock.project_id,
            token=mock.token,
            available_volume_id=mock.available_volume_id,
            in_use_volume_id=mock.in_use_volume_id,
            embedded_mock=True,
        )

    def finish(self) -> None:
        """Delete what the run created (on a real target), write the ledger, stop the client and mock."""
        if self._target is not None:
            if not self._target.settings.embedded_mock:
                # An embedded mock is thrown away whole; a real target keeps what is not deleted.
                self._target.cleanup()
            self.ledger.creates = self._target.creates
            self._target.close()
        self.ledger.close()
        if self._mock is not None:
            self._mock.__exit__(None, None, None)
            self._mock = None

    # -- what tests call ----------------------------------------------------------------------------
    def begin_test(self, nodeid: str) -> None:
        self._test = _TestEvidence(nodeid)
        self.ledger.current_test = nodeid

    def verify(
        self, exchange: Exchange, expectation: Expectation, *, volume_size: int | None = None
    ) -> Outcome:
        """Check a create exchange against the contract and the expectation; fail the test on violations."""
        from conformance.checks import CheckContext, check_create

        if volume_size is None:
            volume_size = self._size_of_named_volume(exchange)
        context = CheckContext(self.contract, expectation, volume_size, self.seen_ids)
        return self.conclude(check_create(exchange, context), exchange)

    def conclude(self, outcome: Outcome, exchange: Exchange) -> Outcome:
        """Record an outcome in the ledger and fail the running test when it holds violations."""
        self.ledger.record(outcome, exchange, test=self.ledger.current_test)
        if self._test is not None and self._test.sample is None:
            self._test.sample = exchange
        if outcome.violations:
            if self._test is not None:
                self._test.failure = exchange
            pytest.fail(failure_message(outcome, exchange), pytrace=False)
        return outcome

    def _size_of_named_volume(self, exchange: Exchange) -> int | None:
        body: Any = exchange.request.json_body
        try:
            volume_id = body[self.contract.snapshot_key]["volume_id"]
        except (KeyError, TypeError):
            return None
        return self.volumes.sizes.get(volume_id) if isinstance(volume_id, str) else None

    def attach_evidence(self) -> None:
        """Attach the test's sample exchange and its last failing one to its Allure result."""
        from conformance.report.allure import attach_exchange

        test, self._test = self._test, None
        if test is None:
            return
        if test.sample is not None and test.sample is not test.failure:
            attach_exchange(test.sample, "sample exchange")
        if test.failure is not None:
            attach_exchange(test.failure, "failing exchange (last, minimal)")

    def note_report(self, ids: tuple[str, ...], report: pytest.TestReport) -> None:
        """Turn a test's skip into skips of its requirements, and a failure the checks missed into one."""
        if report.skipped and report.when in ("setup", "call"):
            reason = _skip_reason(report)
            for requirement_id in ids:
                self.ledger.skip(requirement_id, reason)
        elif report.failed and not self.ledger.has_failed(report.nodeid):
            what = "could not run" if report.when == "setup" else "failed outside the checks"
            detail = _first_line(report.longreprtext)
            self.ledger.observe(ids[0], ok=False, evidence=f"The test {what}: {detail}", test=report.nodeid)

    # -- the reports --------------------------------------------------------------------------------
    def write_reports(self) -> None:
        """Merge every process's ledger and write conformance.json and conformance.md (controller only)."""
        from conformance.ledger import ledger_files, merge, merge_stats, read_target
        from conformance.report import json as json_report
        from conformance.report import markdown

        paths = [p for p in ledger_files(self.ledger_dir) if p.name.startswith(f"{self.run_id}-")]
        if not paths and not self.active:
            return
        target = read_target(paths) or (self.settings.target.public() if self.settings.target else {})
        report = json_report.build(
            settings=self.settings,
            contract=self.contract,
            target=target,
            verdicts=merge(paths),
            catalogue=list(self.catalogue().values()),
            stats=merge_stats(paths),
            duration_s=time.monotonic() - self._began,
        )
        reports = self.settings.reports_dir
        json_path = json_report.write(reports / json_report.FILENAME, report)
        markdown.write(reports / markdown.FILENAME, report)
        for path in paths:
            path.unlink()
        if self.ledger_dir.is_dir() and not any(self.ledger_dir.iterdir()):
            self.ledger_dir.rmdir()
        self.summary = [*json_report.summary_lines(report), f"evs-conformance: reports in {json_path.parent}"]


def failure_message(outcome: Outcome, exchange: Exchange) -> str:
    """What a failing test prints: each violation with its requirement, then a runnable reproduction."""
    parts = [f"[{v.requirement}] {v.check}\n{v.message}" for v in outcome.violations]
    return "\n\n".join([*parts, f"Exchange: {exchange.describe()}", f"Reproduce:\n{exchange.curl()}"])


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    return (errors[0][2:].strip() if errors else lines[-1] if lines else "no detail")[:300]


def _replace(settings: RunSettings, **changes: Any) -> RunSettings:
    import dataclasses

    return dataclasses.replace(settings, **changes)
