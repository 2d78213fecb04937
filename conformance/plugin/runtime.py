"""The run's shared state in one process: settings, contract, target, disks, ledger, the test in progress."""

from __future__ import annotations

import dataclasses
import random
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from conformance.contract import Contract, load_contract
from conformance.core.errors import ToolError
from conformance.core.exchange import Exchange
from conformance.plugin.budget import exhausted_reason
from conformance.plugin.interrupts import Interrupts
from conformance.plugin.redaction import Redactor
from conformance.report.har import HarWriter
from conformance.report.ledger import Cleanup, Ledger, LeftSnapshot, Stats
from conformance.run.journal import JOURNAL, REFUSED, Journal, read_journal
from conformance.run.settings import RunSettings, TargetSettings
from conformance.target import BudgetExhausted, Target
from conformance.target.client import DeadlineReached, NotSent
from conformance.target.identity import identity_client

if TYPE_CHECKING:
    import httpx

    from conformance.contract.requirements import Requirement
    from conformance.plugin.acceptance import Judged
    from conformance.rules.checks.model import Expectation, Outcome
    from conformance.rules.oracle import Volumes
    from conformance.target.scheduler import CreateScheduler

#: Folders of the reports where each process of a run writes its part, merged at the end.
LEDGER_DIR, HAR_DIR = ".ledger", ".har"
#: Why cleanup does not run against the embedded mock.
MOCK_DISCARDED = "not needed: the embedded mock is discarded with its snapshots"
CLEANUP_OFF = "off (--no-cleanup)"
SKIPPED_BY_SIGNAL = "stopped by a second interrupt; what is left is listed"
#: Why a create the journal holds is listed although no process's cleanup named it.
NO_CLEANUP_RECORD = "its process ended before its cleanup reported (the journal lists it)"


class SuiteTarget(Target):
    """The target as tests see it: a request the run may not send (the budget is spent, time is up, the
    target stopped answering) skips the test with that reason instead of failing it.

    Outside a test (cleanup) the ``NotSent`` goes to the caller as it is.
    """

    #: The run's whole budget (the one the user gave), named in the skip reason.
    budget: int | None = None
    #: How the run names its options in messages (``--deadline`` or ``--evs-deadline``).
    deadline_flag: str = "--deadline"
    budget_flag: str = "--max-creates"

    #: The process's interrupt state: a first interrupt waits for the create in flight to be answered.
    interrupts: Interrupts | None = None

    def create(self, *args: Any, **kwargs: Any) -> Exchange:
        try:
            if self.interrupts is None:
                return super().create(*args, **kwargs)
            with self.interrupts.shielded():
                return super().create(*args, **kwargs)
        except NotSent as exc:
            self._skip(exc)

    def request(self, *args: Any, **kwargs: Any) -> Exchange:
        try:
            return super().request(*args, **kwargs)
        except NotSent as exc:
            self._skip(exc)

    def _skip(self, exc: NotSent) -> NoReturn:
        if not self.current_test:
            raise exc
        # A skip, not an error: Hypothesis lets it through at once instead of shrinking it.
        if isinstance(exc, BudgetExhausted):
            pytest.skip(exhausted_reason(self.budget, self.budget_flag))
        if isinstance(exc, DeadlineReached):
            pytest.skip(f"not reached: time ran out ({self.deadline_flag} {self.settings.deadline_s:g} s)")
        pytest.skip(f"not reached: {exc}")


class SuiteRuntime:
    """One process's view of the run: settings, contract, target, disks, ledger, and the test in progress."""

    def __init__(
        self,
        settings: RunSettings,
        *,
        run_id: str,
        worker: str,
        controller: bool,
        max_creates: int | None,
        interrupts: Interrupts | None = None,
    ) -> None:
        self.settings = settings
        #: How this process answers SIGINT and SIGTERM (the first stops the tests, a later one the cleanup).
        self.interrupts = interrupts or Interrupts()
        self.run_id = run_id
        self.worker = worker
        self.controller = controller
        self.max_creates = max_creates
        self.active = False
        self.summary: list[str] | None = None
        #: Why the run ended before every test had run (an interrupt, the target not answering), if it did.
        self.incomplete: str | None = None
        #: The tests of this process that ran (passed, failed or skipped).
        self.ran: set[str] = set()
        self.redactor = Redactor(self.secrets)
        self.ledger = Ledger(self.ledger_dir / f"{run_id}-{worker}.jsonl", redact=self.redactor)
        #: Secrets other processes of the run reported (pytest-xdist workers that fetched their own token).
        self.foreign_secrets: set[str] = set()
        self._identity: httpx.Client | None = None
        self.seen_ids: set[str] = set()
        self._began = time.monotonic()
        self._contract: Contract | None = None
        self._target: SuiteTarget | None = None
        self._volumes: Volumes | None = None
        #: Keeps the run's creates within the target's limits (None on the embedded mock, which has none).
        self.scheduler: CreateScheduler | None = None
        self._mock: Any = None
        self._test_ids: tuple[str, ...] = ()
        self._har: HarWriter | None = None
        #: The report written at the end (controller only), for whoever drives the run.
        self.report: dict[str, Any] | None = None
        self._catalogue: dict[str, Requirement] | None = None

    @property
    def ledger_dir(self) -> Path:
        return self.settings.reports_dir / LEDGER_DIR

    @property
    def har_dir(self) -> Path:
        """Where each process writes its part of the run's HAR, merged at the end."""
        return self.settings.reports_dir / HAR_DIR

    def _record_exchange(self, exchange: Exchange) -> None:
        if self._har is not None:
            self._har.add(exchange, requirements=self._test_ids, test=self.ledger.current_test)

    @property
    def contract(self) -> Contract:
        if self._contract is None:
            try:
                self._contract = load_contract(self.settings.profile, api_prefix=self.settings.api_prefix)
            except ToolError as exc:
                raise pytest.UsageError(str(exc)) from exc
        return self._contract

    @property
    def started(self) -> bool:
        return self._target is not None

    @property
    def target(self) -> Target:
        assert self._target is not None, "the runtime has not started"
        return self._target

    @property
    def volumes(self) -> Volumes:
        assert self._volumes is not None, "the runtime has not started"
        return self._volumes

    def secrets(self) -> tuple[str, ...]:
        """Every value no artefact may hold: the token, the password, every token issued during the run."""
        given = self.settings.target.token if self.settings.target is not None else None
        password = self.settings.credentials.password if self.settings.credentials is not None else None
        issued = self._target.secrets() if self._target is not None else ()
        found = (given, password, *issued, *self.foreign_secrets)
        return tuple(dict.fromkeys(s for s in found if s))

    def catalogue(self) -> dict[str, Requirement]:
        if self._catalogue is None:
            from conformance.contract.requirements import load_requirements

            self._catalogue = {r.id: r for r in load_requirements()}
        return self._catalogue

    # -- start and stop -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the embedded mock when no target was given, open the client, and check the disks."""
        if self._target is not None:
            return
        self.active = True
        target_settings = self.settings.target or self._start_mock()
        if self.settings.credentials is not None:
            target_settings = dataclasses.replace(target_settings, token_source=self._token_source())
        self.settings = dataclasses.replace(self.settings, target=target_settings)
        journal = Journal(
            self.settings.reports_dir / JOURNAL, run=_journal_header(self.settings), process=self.worker
        )
        deadline_at = None
        if target_settings.deadline_s is not None:
            deadline_at = (self.settings.started_at or time.monotonic()) + target_settings.deadline_s
        self._target = SuiteTarget(
            self.contract,
            target_settings,
            max_creates=self.max_creates,
            journal=journal,
            deadline_at=deadline_at,
            pacer=self._pacer(target_settings),
        )
        self._target.budget = self.settings.max_creates
        self._target.interrupts = self.interrupts
        self._target.current_test = self.ledger.current_test
        self._har = HarWriter(self.har_dir / f"{self.run_id}-{self.worker}.har", self.redactor)
        self._target.on_exchange = self._record_exchange
        self._target.deadline_flag = self.settings.flag("deadline")
        self._target.budget_flag = self.settings.flag("max_creates")
        from conformance.rules.oracle import Volumes
        from conformance.target import DiskApiMissing, verify_disks

        try:
            disks, unverified = verify_disks(
                self._target,
                target_settings.available_volume_ids,
                target_settings.in_use_volume_id,
                disk_api_optional=not self.settings.lifecycle,
            )
        except DiskApiMissing as exc:
            flag = self.settings.flag("lifecycle")
            only_creates = f"a target that serves only the create operation is tested with {flag}"
            raise ToolError(f"{exc}; {only_creates}") from None
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
        described = target_settings.public()
        if unverified is not None:
            # Said in the report: what pre-flight could not check, and the start of the answer it got.
            described["disks_unverified"] = unverified
        self.ledger.describe(described)
        if not target_settings.embedded_mock:
            self.scheduler = self._scheduler(target_settings)
            self._target.scheduler = self.scheduler

    def _scheduler(self, target: TargetSettings) -> CreateScheduler:
        """The target's limits as the run keeps them (see ``conformance.target.scheduler``)."""
        from conformance.target.scheduler import CreateScheduler, DiskRules

        settings = self.settings
        rules = DiskRules(
            creating_per_disk=settings.creating_per_disk,
            snapshots_per_disk=settings.snapshots_per_disk,
            snapshots_per_project=settings.snapshots_per_project,
            settle_timeout_s=settings.settle_timeout_s,
            lifecycle=settings.lifecycle,
            settle_time_s=settings.settle_time_s,
        )
        return CreateScheduler(
            self.contract, rules, available=target.available_volume_ids, in_use=target.in_use_volume_id
        )

    def _pacer(self, target: TargetSettings) -> Any:
        """One rate limit for the whole run: the processes of a parallel run share it through a file."""
        if target.rate_limit_per_s is None:
            return None
        from conformance.target.pacing import Pacer

        shared = (
            self.settings.reports_dir / ".ledger" / f"{self.run_id}.pace"
            if self.settings.workers > 1
            else None
        )
        if shared is not None:
            shared.parent.mkdir(parents=True, exist_ok=True)
        return Pacer(target.rate_limit_per_s, shared=shared)

    def _token_source(self) -> Any:
        """Tokens from the identity service, fetched on first use and renewed once after a 401."""
        from conformance.run.auth import TokenSource

        credentials, target = self.settings.credentials, self.settings.target
        assert credentials is not None
        assert target is not None
        self._identity = identity_client(target)
        return TokenSource.from_password(self._identity, credentials)

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
        """Clean up what the run created, write the ledger, stop the clients and the mock.

        A second interrupt (before or during the cleanup) stops it, but the ledger still gets the list of
        what is left.
        """
        self.interrupts.tests_over()
        if self._target is not None:
            self._target.current_test = ""
            try:
                if self.interrupts.skip_cleanup and not self._target.settings.embedded_mock:
                    raise KeyboardInterrupt
                with self.interrupts.cleaning():
                    cleanup = self._clean_up(self._target)
            except KeyboardInterrupt:
                left = tuple(LeftSnapshot(_label(r), r.describe()) for r in self._target.outstanding())
                cleanup = Cleanup(left=left, skipped=SKIPPED_BY_SIGNAL)
            self.ledger.cleaned(cleanup)
            self.ledger.creates = self._target.creates
            self._target.close()
            if self._target.journal is not None:
                self._target.journal.close()
        if self.incomplete is None and self.interrupts.signal is not None:
            signal_name = self.interrupts.signal
            self.incomplete = f"interrupted ({signal_name}) after the tests had run, as the run finished"
        if self._har is not None:
            self._har.close()
        self.ledger.close()
        if self._identity is not None:
            self._identity.close()
            self._identity = None
        if self._mock is not None:
            self._mock.__exit__(None, None, None)
            self._mock = None

    def _clean_up(self, target: Target) -> Cleanup:
        if target.settings.embedded_mock:
            # A mock the run started is thrown away whole; a real target keeps what is not deleted.
            return Cleanup(skipped=MOCK_DISCARDED)
        outstanding = target.outstanding()
        if not self.settings.cleanup:
            left = tuple(LeftSnapshot(_label(r), "cleanup is off (--no-cleanup)") for r in outstanding)
            return Cleanup(left=left, skipped=CLEANUP_OFF)
        from conformance.target.cleanup import clean_up

        if outstanding:
            who = "" if self.worker == "main" else f" ({self.worker})"
            print(
                f"evs-conformance: cleaning up{who}: {len(outstanding)} create(s) to delete and see gone, "
                f"for up to {self.settings.cleanup_timeout_s:g} s (a second interrupt skips it)",
                file=sys.stderr,
                flush=True,
            )
        # Cleanup has its own time, whatever the run's deadline or the breaker decided.
        target.reopen(seconds=self.settings.cleanup_timeout_s)
        done = clean_up(target, outstanding, timeout_s=self.settings.cleanup_timeout_s)
        stopped = "" if done.stopped is None else f"; cleanup stopped: {done.stopped}"
        left_behind = tuple(LeftSnapshot(item.id, item.reason + stopped) for item in done.left)
        return Cleanup(deleted=len(done.deleted), left=left_behind, already_gone=len(done.already_gone))

    # -- what tests call ----------------------------------------------------------------------------
    def begin_test(self, nodeid: str, ids: tuple[str, ...] = ()) -> None:
        self._test_ids = ids
        self.ledger.current_test = nodeid
        if self._target is not None:
            self._target.current_test = nodeid

    def end_test(self) -> None:
        if self._target is not None:
            self._target.current_test = ""

    def verify(
        self, exchange: Exchange, expectation: Expectation, *, volume_size: int | None = None
    ) -> Outcome:
        """Check a create exchange against the contract and the expectation; fail the test on violations.

        A refusal a limit of the target may explain is sent again first, and a refused body of several
        fields is narrowed to the field refused (``conformance.plugin.acceptance``).
        """
        return self.judge(exchange, expectation, volume_size=volume_size).outcome

    def judge(
        self,
        exchange: Exchange,
        expectation: Expectation,
        *,
        volume_size: int | None = None,
        fail: bool = True,
        narrow: bool = True,
        settled: bool = False,
    ) -> Judged:
        """``verify`` that also gives the answer judged; ``fail=False`` records without failing the test,
        ``settled`` says the answer already went through ``outside_limits``."""
        from conformance.plugin.acceptance import judge

        return judge(
            self, exchange, expectation, volume_size=volume_size, fail=fail, narrow=narrow, settled=settled
        )

    def outside_limits(self, exchange: Exchange, expectation: Expectation) -> Exchange:
        """The answer to judge: ``exchange``, or, when a limit of the target may have refused it, the same
        request sent again once nothing of the run is pending (a skip when a limit still refuses it)."""
        from conformance.plugin.acceptance import outside_limits

        return outside_limits(self, exchange, expectation)

    def conclude(self, outcome: Outcome, exchange: Exchange, *, fail: bool = True) -> Outcome:
        """Record an outcome in the ledger; fail the running test when it holds violations (and ``fail``)."""
        self.ledger.record(outcome, exchange, test=self.ledger.current_test)
        if outcome.violations and fail:
            pytest.fail(self.failure_text(outcome, exchange), pytrace=False)
        return outcome

    def failure_text(self, outcome: Outcome, exchange: Exchange) -> str:
        """What a failing test prints for ``outcome``, secrets masked."""
        return self.redactor(failure_message(outcome, exchange))

    def size_of_named_volume(self, exchange: Exchange) -> int | None:
        """The size of the disk a create's body names, when the run knows it."""
        body: Any = exchange.request.json_body
        try:
            volume_id = body[self.contract.snapshot_key]["volume_id"]
        except (KeyError, TypeError):
            return None
        return self.volumes.sizes.get(volume_id) if isinstance(volume_id, str) else None

    def note_report(self, ids: tuple[str, ...], report: pytest.TestReport) -> None:
        """Turn a test's skip into skips of its requirements, and a failure the checks missed into one."""
        self.ran.add(report.nodeid)
        if report.skipped and report.when in ("setup", "call"):
            reason = _skip_reason(report)
            for requirement_id in ids:
                self.ledger.skip(requirement_id, reason)
        elif report.failed and not self.ledger.has_failed(report.nodeid):
            what = "could not run" if report.when == "setup" else "failed outside the checks"
            detail = _first_line(report.longreprtext)
            self.ledger.observe(ids[0], ok=False, evidence=f"The test {what}: {detail}", test=report.nodeid)

    def not_reached(self, ids: tuple[str, ...], reason: str) -> None:
        """Say why the requirements of a test that never ran were not reached."""
        for requirement_id in ids:
            self.ledger.skip(requirement_id, reason)

    # -- the reports --------------------------------------------------------------------------------
    def write_reports(self) -> None:
        """Merge every process's ledger and HAR into conformance.json, then write every view of it
        (conformance.md/.html, junit.xml, allure-results) from that one result (controller only)."""
        from datetime import date

        from conformance.report import console, har, views
        from conformance.report import json as json_report
        from conformance.report.ledger import ledger_files, merge, merge_cleanup, merge_stats, read_target
        from conformance.run.waivers import apply_waivers

        paths = [p for p in ledger_files(self.ledger_dir) if p.name.startswith(f"{self.run_id}-")]
        if not paths and not self.active:
            return
        reports = self.settings.reports_dir
        parts = sorted(self.har_dir.glob(f"{self.run_id}-*.har")) if self.har_dir.is_dir() else []
        har_path = reports / har.FILENAME
        har.merge_parts(parts, har_path)
        target = read_target(paths) or (self.settings.target.public() if self.settings.target else {})
        stats, cleanup = self._with_journal(merge_stats(paths), merge_cleanup(paths))
        report = json_report.build(
            settings=self.settings,
            contract=self.contract,
            target=target,
            verdicts=merge(paths),
            catalogue=list(self.catalogue().values()),
            stats=stats,
            duration_s=time.monotonic() - self._began,
            cleanup=cleanup,
            selected=frozenset(self.settings.requirements) or None,
            incomplete_reason=self.incomplete,
        )
        if self.settings.waivers:
            report = apply_waivers(report, self.settings.waivers, today=date.today())
        report = json_report.redacted(report, self.redactor)
        json_path = json_report.write(reports / json_report.FILENAME, report)
        views.write_views(report, reports, har=har_path)
        for path in [*paths, *parts, self.ledger_dir / f"{self.run_id}.pace"]:
            path.unlink(missing_ok=True)
        for folder in (self.ledger_dir, self.har_dir):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        self.report = report
        lines = [f"evs-conformance: reports in {json_path.parent}", *console.closing_lines(report)]
        self.summary = [self.redactor(line) for line in lines]

    def _with_journal(self, stats: Stats, cleanup: Cleanup | None) -> tuple[Stats, Cleanup | None]:
        """The figures and the cleanup as the processes reported them, completed from the journal: a process
        stopped before it reported (a worker killed while it cleaned up) leaves its creates only there."""
        path = self.settings.reports_dir / JOURNAL
        target = self.settings.target
        if target is None or target.embedded_mock or not path.is_file():
            return stats, cleanup
        try:
            view = read_journal(path)
        except (OSError, ValueError):
            return stats, cleanup
        counted = sum(1 for record in view.creates if record.outcome != REFUSED)
        stats = dataclasses.replace(stats, creates=max(stats.creates, counted))
        listed = {item.id for item in cleanup.left} if cleanup is not None else set()
        missing = tuple(
            LeftSnapshot(_label(record), f"{record.describe()}; {NO_CLEANUP_RECORD}")
            for record in view.outstanding()
            if _label(record) not in listed
        )
        if not missing:
            return stats, cleanup
        found = cleanup or Cleanup()
        return stats, dataclasses.replace(found, left=found.left + missing)


def _journal_header(settings: RunSettings) -> dict[str, Any]:
    """What ``evs-conformance cleanup`` needs to know of the run (no secrets): where, which project, how."""
    target = settings.target
    assert target is not None
    return {
        "base_url": target.base_url,
        "project_id": target.project_id,
        "profile": settings.profile,
        "api_version": settings.api_version,
        "embedded_mock": target.embedded_mock,
    }


def _label(record: Any) -> str:
    from conformance.run.journal import shown_id

    return shown_id(record.snapshot_id) if record.snapshot_id else f"(no ID; create {record.key})"


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
