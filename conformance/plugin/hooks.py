"""The plugin's hooks: settings in, the suite ordered and planned, each test's outcome into the ledger.

Under ``evs-conformance run`` the command hands over its settings object (``Provided``); under plain pytest
they are resolved from the ``--evs-*`` options (``conformance.plugin.options``). pytest-xdist workers get
them from the controller through ``workerinput``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.core.errors import ToolError
from conformance.plugin import options as plugin_options
from conformance.plugin.budget import CREATES_MARKER, BudgetPlanner, budget_order, exhausted_reason
from conformance.plugin.interrupts import Interrupts, watch_parent
from conformance.plugin.redaction import redact_test_report, scrub_listed
from conformance.plugin.runtime import HAR_DIR, LEDGER_DIR, SuiteRuntime
from conformance.plugin.workers import Workers
from conformance.run.journal import JOURNAL, settle_previous_journal
from conformance.run.reportsdir import ReportsDir
from conformance.run.settings import RunSettings, TargetSettings, build, from_wire, to_wire

#: A test running longer than this gets a line saying which it is.
SLOW_TEST_S = 5.0
MARKER = "requirement"
#: Requirements about what follows a create; ``--evs-no-lifecycle`` skips their tests.
LIFECYCLE_PREFIX = "LIFE-"
HYPOTHESIS_PROFILE = "evs-conformance"
_SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"
_RUNTIME = pytest.StashKey["SuiteRuntime"]()
_WORKER_RUN_ID = "evs_run_id"
_WORKER_SECRETS = "evs_secrets"
_PLANNER = pytest.StashKey["BudgetPlanner"]()


_WIRE = "evs_settings"
_REPORTS = pytest.StashKey[ReportsDir]()
#: Each requirement test's report carries (process, exchanges, creates, requirement IDs) under this name,
#: so whoever drives the run can show progress, pytest-xdist workers included.
PROGRESS_PROPERTY = "evs-progress"
_DEFERRED = pytest.StashKey[str]()
_SIGNALS = pytest.StashKey[contextlib.ExitStack]()
_WORKERS = pytest.StashKey[Workers]()
#: What a worker may take beyond the cleanup time to finish and report (a request in flight, the ledger).
WORKER_GRACE_S = 15.0


@dataclass(eq=False)
class Provided:
    """Settings handed to the plugin by ``evs-conformance run``, which drives pytest in its own process.

    ``observer`` (optional) is told of each finished test (``test_done(report)``) on the controlling process.
    """

    settings: RunSettings
    observer: Any = None
    #: Lines the run leaves for the command to print (the plan of a dry run, the closing summary).
    summary: list[str] | None = None
    #: Why the run stopped early, when it did (an unreachable target, disks in the wrong state).
    error: str | None = None
    #: How the command's process answers SIGINT and SIGTERM (the command installs it around pytest).
    interrupts: Interrupts = field(default_factory=Interrupts)
    #: The run's result as written to conformance.json.
    report: dict[str, Any] | None = None

    @property
    def interrupted(self) -> str | None:
        """The signal that interrupted the run, if one did."""
        return self.interrupts.signal

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Pass each finished test on to the observer (pytest-xdist sends workers' reports here too)."""
        if self.observer is not None and (report.when == "call" or report.outcome != "passed"):
            self.observer.test_done(report)


def pytest_addoption(parser: pytest.Parser) -> None:
    plugin_options.add_options(parser)


# -- configuration -----------------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): the requirement IDs of the catalogue that the test exercises"
    )
    config.addinivalue_line(
        "markers",
        f"{CREATES_MARKER}(kind): the test makes the planned creates (plan) or probes a silence (probe)",
    )
    # The planned creates share state in one process; pytest-xdist keeps a group on one worker.
    config.addinivalue_line("markers", "xdist_group(name): run the tests of a group on one worker")
    workerinput = getattr(config, "workerinput", None)
    try:
        settings = _settings(config, workerinput)
    except ToolError as exc:
        if _runs_the_suite(config, workerinput):
            raise pytest.UsageError(str(exc)) from exc
        # Some other project's tests: a stray EVS_* variable must not stop them; say it if the suite is used.
        config.stash[_DEFERRED] = str(exc)
        return
    if (
        workerinput is None
        and not settings.dry_run
        and not config.option.collectonly
        and _runs_the_suite(config, workerinput)
    ):
        try:
            config.stash[_REPORTS] = own_reports(settings)
        except ToolError as exc:
            raise pytest.UsageError(str(exc)) from exc
    run_id = workerinput[_WORKER_RUN_ID] if workerinput else uuid.uuid4().hex[:12]
    worker = workerinput["workerid"] if workerinput else "main"
    share = _budget_share(settings.max_creates, workerinput)
    provided = provided_by(config)
    runtime = SuiteRuntime(
        settings,
        run_id=run_id,
        worker=worker,
        controller=workerinput is None,
        max_creates=share,
        interrupts=provided.interrupts if provided is not None else None,
    )
    config.stash[_RUNTIME] = runtime
    # A worker runs the suite when the controller handed it the run's settings.
    suite = _WIRE in workerinput if workerinput is not None else _runs_the_suite(config, None)
    if provided is None and not settings.dry_run and suite:
        # Plain pytest and pytest-xdist workers answer signals as ``evs-conformance run`` does.
        signals = contextlib.ExitStack()
        signals.enter_context(runtime.interrupts.installed())
        config.stash[_SIGNALS] = signals
    if workerinput is not None and suite:
        # A worker whose controller was killed stops its tests at once and cleans up on its own.
        watch_parent(os.getppid())
    _register_hypothesis_profile(settings)


def _settings(config: pytest.Config, workerinput: dict[str, Any] | None) -> RunSettings:
    if workerinput and _WIRE in workerinput:
        return from_wire(workerinput[_WIRE])
    provided = provided_by(config)
    if provided is not None:
        return provided.settings
    resolved = plugin_options.resolve(config.option)
    if resolved.values["show_config"]:
        from conformance.run.config import show

        pytest.exit("\n".join(show(resolved, spell=plugin_options.spell)), returncode=0)
    settings = build(resolved, spell=plugin_options.spell, front_end="plugin")
    return dataclasses.replace(settings, started_at=time.monotonic())


def own_reports(settings: RunSettings) -> ReportsDir:
    """Take the reports folder for this run: refuse one that holds the user's files, or the journal of an
    earlier run that left snapshots behind; remove what the earlier run wrote; list what this one writes."""
    from conformance.report import allure_results, har, html, junit, markdown
    from conformance.report import json as json_report

    reports = ReportsDir.prepare(settings.reports_dir, flag=settings.flag("reports"))
    settle_previous_journal(reports.path / JOURNAL)
    reports.remove_previous()
    written = (
        json_report.FILENAME, markdown.FILENAME, html.FILENAME, junit.FILENAME, har.FILENAME,
        allure_results.DIRECTORY, JOURNAL, LEDGER_DIR, HAR_DIR,
    )  # fmt: skip
    for name in written:
        reports.claim(name)
    return reports


def provided_by(config: pytest.Config) -> Provided | None:
    """The settings ``evs-conformance run`` handed over, if it drives this pytest."""
    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, Provided)), None)


def _runs_the_suite(config: pytest.Config, workerinput: dict[str, Any] | None) -> bool:
    """Whether this pytest is meant to run the suite (so bad options must stop it at once)."""
    if workerinput or plugin_options.given_options(config.option):
        return True
    return any("conformance.suite" in str(arg) or _in_suite(Path(str(arg))) for arg in config.args)


def runtime_of(config: pytest.Config) -> SuiteRuntime:
    """The run's runtime; stops the run with one line when its settings could not be made."""
    runtime = config.stash.get(_RUNTIME, None)
    if runtime is None:
        reason = config.stash.get(_DEFERRED, "the evs-conformance plugin is not configured")
        pytest.exit(f"evs-conformance: error: {reason}", returncode=2)
    return runtime


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand every pytest-xdist worker the run's identity and settings (by its pipe, not a command line)."""
    runtime = node.config.stash.get(_RUNTIME, None)
    if runtime is None:
        return
    node.workerinput[_WORKER_RUN_ID] = runtime.run_id
    node.workerinput[_WIRE] = to_wire(runtime.settings)
    workers = node.config.stash.get(_WORKERS, None)
    if workers is None:
        workers = node.config.stash[_WORKERS] = Workers()
        # An interrupt of the controller reaches the workers even when only the controller was signalled.
        runtime.interrupts.forward = workers.forward
    workers.add(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The run's own tests go out by group, safe when a worker dies (``conformance.plugin.scheduling``)."""
    if config.stash.get(_RUNTIME, None) is None or config.getvalue("dist") != "loadgroup":
        return None
    from conformance.plugin.scheduling import GroupScheduling

    return GroupScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    """A worker that died took what it had found with it: the run cannot claim a verdict for it."""
    runtime = sched.config.stash.get(_RUNTIME, None)
    if runtime is not None and runtime.incomplete is None:
        runtime.incomplete = (
            f"a worker process ended while running {crashitem}; what it had found is lost "
            "(its creates are in the journal)"
        )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Learn the tokens a worker was issued (in memory, never written) so the controller can mask them."""
    runtime = node.config.stash.get(_RUNTIME, None)
    if runtime is not None:
        runtime.foreign_secrets.update(getattr(node, "workeroutput", {}).get(_WORKER_SECRETS, ()))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last line of defence: rewrite any output file that still holds a secret."""
    signals = config.stash.get(_SIGNALS, None)
    if signals is not None:
        signals.close()
    runtime = config.stash.get(_RUNTIME, None)
    if runtime is None or not runtime.active:
        return
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_SECRETS] = list(runtime.secrets())
        return
    reports = config.stash.get(_REPORTS, None)
    if reports is not None:
        reports.scrub(runtime.redactor)
    # Files a user asked pytest itself to write in this run (``--junitxml``) are this run's too.
    extra = [Path(value) for option in ("xmlpath",) if (value := getattr(config.option, option, None))]
    scrub_listed(extra, runtime.redactor)


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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each requirement test the run's seed; select, order and plan the tests.

    Runs after ``-k``/``-m`` deselection, so only the tests that will run are marked, ordered and planned.
    """
    marked = [(item, ids) for item in items if (ids := requirement_ids(item))]
    if not marked:
        return
    runtime = runtime_of(config)
    from hypothesis import seed

    catalogue = runtime.catalogue()
    for item, _ in marked:
        obj = getattr(item, "obj", None)
        function: Any = getattr(obj, "__func__", obj)
        if runtime.settings.seed is not None and getattr(function, "is_hypothesis_test", False):
            seed(runtime.settings.seed)(function)
    settings = runtime.settings
    if settings.requirements:
        _select(config, items, settings.requirements)
    if settings.max_creates is not None:
        items[:] = budget_order(items, requirement_ids)
        config.stash[_PLANNER] = BudgetPlanner(items, requirement_ids, examples=settings.examples)
    if settings.dry_run:
        from conformance.plugin.plan import render_plan

        runtime.summary = render_plan(
            items, requirement_ids, settings=settings, contract=runtime.contract, catalogue=catalogue
        )
        config.hook.pytest_deselected(items=list(items))
        items.clear()


def _select(config: pytest.Config, items: list[pytest.Item], patterns: tuple[str, ...]) -> None:
    """Keep only the tests that carry a selected requirement (``--requirements``)."""
    from conformance.contract.requirements import is_selected

    kept = [item for item in items if is_selected(requirement_ids(item), set(patterns))]
    dropped = [item for item in items if item not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """The requirement IDs a test carries, in marker order, without repeats."""
    ids: dict[str, None] = {}
    for mark in item.iter_markers(MARKER):
        ids.update(dict.fromkeys(str(arg) for arg in mark.args))
    return tuple(ids)


# -- running tests -----------------------------------------------------------------------------------------
def pytest_runtest_setup(item: pytest.Item) -> None:
    ids = requirement_ids(item)
    if not ids:
        return
    runtime = runtime_of(item.config)
    runtime.begin_test(item.nodeid, ids)
    if not runtime.settings.lifecycle and all(i.startswith(LIFECYCLE_PREFIX) for i in ids):
        pytest.skip(f"lifecycle checks are off ({runtime.settings.flag('lifecycle')})")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Scale a creating property test to its share of the budget; afterwards attach its exchanges."""
    restore = _scale_to_budget(item)
    notice = _slow_test_notice(item)
    try:
        return (yield)
    finally:
        if notice is not None:
            notice.cancel()
        if restore is not None:
            restore()
        if requirement_ids(item):
            runtime = runtime_of(item.config)
            runtime.end_test()
            if runtime.started and runtime.target.unresponsive is not None:
                # The breaker tripped: nothing more is sent; the reports say why the run ended early.
                item.session.shouldstop = runtime.target.unresponsive


def _scale_to_budget(item: pytest.Item) -> Callable[[], None] | None:
    """Give a property test that creates its share of the creates left; skip it when none are left."""
    planner = item.config.stash.get(_PLANNER, None)
    if planner is None:
        return None
    runtime = runtime_of(item.config)
    if planner is None or not planner.is_scaled(item) or runtime.max_creates is None:
        return None
    created = runtime.target.creates if runtime.started else 0
    examples = planner.examples_for(item, creates_left=runtime.max_creates - created)
    if examples == 0:
        pytest.skip(exhausted_reason(runtime.settings.max_creates, runtime.settings.flag("max_creates")))
    from hypothesis import settings as hypothesis_settings

    obj: Any = getattr(item, "obj", None)
    function: Any = getattr(obj, "__func__", obj)
    # Hypothesis reads a test's settings from this attribute on every call; parametrized tests share the
    # function, so it is swapped for this call and put back afterwards.
    before = function._hypothesis_internal_use_settings
    function._hypothesis_internal_use_settings = hypothesis_settings(before, max_examples=examples)

    def restore() -> None:
        function._hypothesis_internal_use_settings = before

    return restore


def _slow_test_notice(item: pytest.Item) -> threading.Timer | None:
    """Say which test is running once it has taken a few seconds (a terminal shows only dots with -q)."""
    reporter = item.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(item.config, "workerinput") or not requirement_ids(item):
        return None
    started = time.monotonic()
    ids = ", ".join(requirement_ids(item))

    def say() -> None:
        waited = time.monotonic() - started
        reporter.write_line(f"\nevs-conformance: running {item.nodeid} [{ids}] for {waited:.0f} s ...")

    timer = threading.Timer(SLOW_TEST_S, say)
    timer.daemon = True
    timer.start()
    return timer


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Mask secrets in the report before JUnit, Allure and the terminal read it; note skips and failures."""
    report: pytest.TestReport = yield
    runtime = item.config.stash.get(_RUNTIME, None)
    if runtime is None:
        return report
    redact_test_report(report, call, runtime.redactor)
    ids = requirement_ids(item)
    if ids:
        runtime.note_report(ids, report)
        if runtime.started:
            figures = (runtime.worker, runtime.target.exchanges, runtime.target.creates, ids)
            report.user_properties.append((PROGRESS_PROPERTY, figures))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """Once the tests are over (or interrupted), a first signal no longer stops anything."""
    try:
        return (yield)
    finally:
        runtime = session.config.stash.get(_RUNTIME, None)
        if runtime is not None:
            runtime.interrupts.tests_over()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, object, object]:
    """Let interrupted workers finish their cleanup before pytest-xdist takes them down, then finish."""
    runtime = session.config.stash.get(_RUNTIME, None)
    workers = session.config.stash.get(_WORKERS, None)
    if runtime is not None and workers is not None:
        runtime.interrupts.tests_over()
        settings = runtime.settings
        request_s = settings.target.timeout_s if settings.target is not None else TargetSettings.timeout_s
        timeout = settings.cleanup_timeout_s + 2 * request_s + WORKER_GRACE_S
        for output in workers.wait(timeout_s=timeout):
            # pytest_testnodedown does not run for workers that finish after an interrupt.
            runtime.foreign_secrets.update(output.get(_WORKER_SECRETS, ()))
    try:
        return (yield)
    finally:
        _finish_session(session, exitstatus)


def _finish_session(session: pytest.Session, exitstatus: int) -> None:
    runtime = session.config.stash.get(_RUNTIME, None)
    if runtime is None or session.config.option.collectonly:
        return
    provided = provided_by(session.config)
    if runtime.settings.dry_run:
        # Every test was set aside on purpose: the plan is the run's output.
        session.exitstatus = pytest.ExitCode.OK
    else:
        if runtime.started and runtime.target.unresponsive is not None:
            runtime.incomplete = runtime.target.unresponsive
        elif exitstatus == pytest.ExitCode.INTERRUPTED:
            reason = runtime.interrupts.signal
            runtime.incomplete = f"interrupted ({reason or 'SIGINT'}) before every test had run"
        if runtime.incomplete is not None:
            for item in session.items:
                if item.nodeid not in runtime.ran and (ids := requirement_ids(item)):
                    runtime.not_reached(ids, f"not reached: the run ended early ({runtime.incomplete})")
        runtime.finish()
        if runtime.controller:
            runtime.write_reports()
    if provided is not None:
        provided.summary = runtime.summary
        provided.report = runtime.report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    runtime = config.stash.get(_RUNTIME, None)
    if runtime is None or runtime.summary is None:
        return
    for line in runtime.summary:
        terminalreporter.write_line(line)
