"""The pytest plugin that runs the shipped suite against an endpoint (or the embedded mock) and reports.

It reads the ``--evs-*`` options once into a frozen ``RunSettings``, gives the suite its fixtures
(``evs_target``, ``evs_verify``, ...), records every checked exchange in a per-process ledger, and on the
controlling process merges the ledgers into ``conformance.json`` and ``conformance.md``.

Example::

    pytest --pyargs conformance.suite                                   # against a fresh embedded mock
    pytest --pyargs conformance.suite --evs-base-url https://evs.example --evs-project-id P \\
        --evs-volume-id V -n 4                                          # token from $EVS_TOKEN
    EVS_PASSWORD=... pytest --pyargs conformance.suite --evs-base-url https://evs.example \\
        --evs-iam-url https://iam.example/v3 --evs-username qa --evs-domain qa --evs-project-id P ...
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Generator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.contract import PROFILES, Contract
from conformance.errors import ToolError, UsageError
from conformance.exchange import Exchange
from conformance.ledger import Ledger
from conformance.plugin.budget import BudgetPlanner, budget_order, exhausted_reason
from conformance.plugin.redaction import redact_exception, redact_test_report, scrub_files
from conformance.plugin.runtime import SuiteRuntime, failure_message
from conformance.settings import (
    API_VERSIONS,
    DEFAULT_MAX_CREATES,
    RunSettings,
    TargetSettings,
    parse_rate_limit,
)
from conformance.target import Target

if TYPE_CHECKING:
    from conformance.checks.model import Outcome
    from conformance.oracle import Volumes

#: The environment variable the token may come from (so it stays out of process listings and shell history).
TOKEN_VARIABLE = "EVS_TOKEN"
#: The environment variable the identity service password comes from (never an option).
PASSWORD_VARIABLE = "EVS_PASSWORD"
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
    add("--evs-iam-url", help="identity service v3 base for password auth (tokens from {url}/auth/tokens)")
    add("--evs-username", help="user name for password auth")
    add("--evs-domain", help="the user's domain for password auth")
    add("--evs-project-name", help="scope the token by project name instead of --evs-project-id")
    add("--evs-ca-bundle", help="PEM file of CA certificates to trust instead of the system's")
    add("--evs-insecure", action="store_true", help="do not verify TLS certificates (unsafe)")
    add("--evs-allow-plain-http", action="store_true", help="send the token over http:// to another host")
    add("--evs-timeout", type=float, default=30.0, help="seconds per request (default: 30)")
    add("--evs-deadline", type=float, help="seconds after which the run sends nothing more")
    add("--evs-rate-limit", help="most requests per second, e.g. 5/s (default: no limit)")
    add("--evs-retries", type=int, default=2, help="repeats of a GET/DELETE after a connection error")
    add("--evs-no-lifecycle", action="store_true", help="skip read-back/settle/delete requirements")
    add(
        "--evs-max-creates",
        type=int,
        help=f"most snapshots the run may create (default: {DEFAULT_MAX_CREATES} on an endpoint, "
        "no limit on the embedded mock)",
    )
    add("--evs-settle-timeout", type=float, default=30.0, help="seconds a snapshot may take to settle")
    add("--evs-no-cleanup", action="store_true", help="leave the snapshots the run created")
    add("--evs-cleanup-timeout", type=float, default=60.0, help="seconds cleanup may take in all")
    add("--evs-dry-run", action="store_true", help="print the plan and send nothing")
    add("--evs-waivers", help="YAML file of accepted failures (waivers: [{id, reason, expires}])")
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


def run_settings(option: Any, environ: dict[str, str] | None = None) -> RunSettings:
    """The frozen settings of a run, from parsed ``--evs-*`` options; raises UsageError when they clash."""
    env = dict(os.environ) if environ is None else environ
    password_auth = bool(option.evs_iam_url)
    token = option.evs_token if option.evs_token is not None else env.get(TOKEN_VARIABLE)
    if password_auth:
        if option.evs_token is not None:
            raise UsageError("give --evs-token or password authentication (--evs-iam-url), not both")
        token = None
    target: TargetSettings | None = None
    credentials = None
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
        if password_auth:
            credentials = _credentials(option, env)
        elif not token:
            raise UsageError(
                f"testing {option.evs_base_url} needs --evs-token (or ${TOKEN_VARIABLE}) or --evs-iam-url"
            )
        target = TargetSettings(
            base_url=option.evs_base_url,
            project_id=option.evs_project_id,
            token=token,
            available_volume_id=option.evs_volume_id,
            in_use_volume_id=option.evs_in_use_volume_id,
            embedded_mock=option.evs_embedded_mock,
            ca_bundle=_existing_file(option.evs_ca_bundle, "--evs-ca-bundle"),
            insecure=option.evs_insecure,
            allow_plain_http=option.evs_allow_plain_http,
            timeout_s=option.evs_timeout,
            deadline_s=option.evs_deadline,
            rate_limit_per_s=None
            if option.evs_rate_limit is None
            else parse_rate_limit(option.evs_rate_limit),
            retries=option.evs_retries,
        )
    else:
        stray = [
            flag
            for flag, value in (
                ("--evs-project-id", option.evs_project_id),
                ("--evs-volume-id", option.evs_volume_id),
                ("--evs-in-use-volume-id", option.evs_in_use_volume_id),
                ("--evs-iam-url", option.evs_iam_url),
            )
            if value
        ]
        if stray:
            raise UsageError(f"{', '.join(stray)} need --evs-base-url (the embedded mock has its own)")
    if option.evs_max_creates is not None and option.evs_max_creates < 0:
        raise UsageError("--evs-max-creates must be zero or more")
    max_creates = option.evs_max_creates
    if max_creates is None and target is not None and not target.embedded_mock:
        max_creates = DEFAULT_MAX_CREATES
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
        max_creates=max_creates,
        shrink=not option.evs_no_shrink,
        credentials=credentials,
        waivers=read_waivers(option.evs_waivers),
        cleanup=not option.evs_no_cleanup,
        cleanup_timeout_s=option.evs_cleanup_timeout,
        dry_run=option.evs_dry_run,
    )


def _credentials(option: Any, env: dict[str, str]) -> Any:
    from conformance.auth import PasswordCredentials

    missing = [
        flag
        for flag, value in (("--evs-username", option.evs_username), ("--evs-domain", option.evs_domain))
        if not value
    ]
    password = env.get(PASSWORD_VARIABLE, "")
    if not password:
        missing.append(f"${PASSWORD_VARIABLE}")
    if missing:
        raise UsageError(f"password authentication needs {', '.join(missing)}")
    # The token's scope: the project by name when one is given, else the target's project.
    return PasswordCredentials(
        iam_url=option.evs_iam_url,
        username=option.evs_username,
        password=password,
        domain=option.evs_domain,
        project_id=None if option.evs_project_name else option.evs_project_id,
        project_name=option.evs_project_name or None,
        allow_plain_http=option.evs_allow_plain_http,
    )


def _existing_file(value: str | None, flag: str) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise UsageError(f"{flag} {value}: no such file")
    return path


def read_waivers(value: str | None) -> tuple[Any, ...]:
    """The waivers of a file, validated against the catalogue; raises UsageError (one line) when bad."""
    if value is None:
        return ()
    from conformance.requirements import load_requirements
    from conformance.waivers import load_waivers

    known = {r.id for r in load_requirements()}
    return load_waivers(value, known_ids=known, today=date.today())


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


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Learn the tokens a worker was issued (in memory, never written) so the controller can mask them."""
    secrets = getattr(node, "workeroutput", {}).get(_WORKER_SECRETS, ())
    node.config.stash[_RUNTIME].foreign_secrets.update(secrets)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last line of defence: rewrite any output file that still holds a secret."""
    runtime = config.stash.get(_RUNTIME, None)
    if runtime is None or not runtime.active:
        return
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_SECRETS] = list(runtime.secrets())
        return
    roots = [runtime.settings.reports_dir]
    for option in ("allure_report_dir", "xmlpath"):
        value = getattr(config.option, option, None)
        if value:
            roots.append(Path(value))
    scrub_files(roots, runtime.redactor)


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
    """Give each requirement test its Allure marks (read once per test) and the run's seed.

    Runs after ``-k``/``-m`` deselection, so only the tests that will run are marked, ordered and planned.
    """
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
    settings = runtime.settings
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
            item.config.stash[_RUNTIME].attach_evidence()


def _scale_to_budget(item: pytest.Item) -> Callable[[], None] | None:
    """Give a property test that creates its share of the creates left; skip it when none are left."""
    planner = item.config.stash.get(_PLANNER, None)
    runtime = item.config.stash[_RUNTIME]
    if planner is None or not planner.is_scaled(item) or runtime.max_creates is None:
        return None
    created = runtime.target.creates if runtime.started else 0
    examples = planner.examples_for(item, creates_left=runtime.max_creates - created)
    if examples == 0:
        pytest.skip(exhausted_reason(runtime.settings.max_creates))
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
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    runtime = session.config.stash.get(_RUNTIME, None)
    if runtime is None or session.config.option.collectonly:
        return
    if runtime.settings.dry_run:
        # Every test was set aside on purpose: the plan is the run's output.
        session.exitstatus = pytest.ExitCode.OK
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
        redact_exception(exc, runtime.redactor)
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


__all__ = ["SuiteRuntime", "failure_message", "read_waivers", "requirement_ids", "run_settings"]
