"""Per-requirement observations of one process, written as JSON lines and merged into one verdict each.

Every pytest-xdist worker keeps its own ``Ledger`` file under ``<reports>/.ledger/``; the controller merges
them: a requirement fails if anything broke it, else passes if anything exercised it, else is ``info``
when only silences of the document were seen, else is skipped with the reasons given.

Example::

    ledger = Ledger(reports / ".ledger" / "gw0.jsonl")
    ledger.record(outcome, exchange, test="test_name_lengths")
    ledger.close()
    verdicts = merge(ledger_files(reports / ".ledger"))
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from conformance.core.recording import har_entry
from conformance.core.verdicts import FAIL, INFO, PASS, SKIP, Verdict

if TYPE_CHECKING:
    from conformance.core.exchange import Exchange
    from conformance.rules.checks.model import Outcome, Violation

# Hypothesis replays failing examples while it shrinks; past this many per requirement a process only
# writes a violation that is smaller than every one before it, so the minimal case is never lost.
_VIOLATIONS_KEPT = 20
_SENTENCES_SHOWN = 3
#: How much of a failing case's response body is kept as evidence (its request is always kept whole).
RESPONSE_BODY_KEPT = 16_384
#: Upper bounds (milliseconds) of the response-time buckets counted per status code; the last is open.
TIME_BUCKETS_MS: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
#: The status a response-time count is filed under when no response came.
NO_RESPONSE = "none"


@dataclass(frozen=True)
class Observation:
    """What the target did where the document is silent, with a reproduction when an exchange showed it."""

    sentence: str
    curl: str | None = None


@dataclass(frozen=True)
class MinimalCase:
    """The smallest failing case of a requirement: the violation's fields and the exchange that showed it.

    ``exchange`` is the HAR entry (secrets masked); ``expectation`` and ``volume_size`` are what the create
    checks judged it by (None for other checks), so a replay judges a new answer the same way.
    """

    test: str
    check: str
    received: str
    documented: str
    source: str
    message: str
    exchange: Mapping[str, Any] | None = None
    expectation: Mapping[str, Any] | None = None
    volume_size: int | None = None
    replayable: bool = False
    #: Snapshot IDs the failing answer was compared against (a reused ID), for a replay to compare again.
    seen_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The case as JSON-ready data."""
        data: dict[str, Any] = {
            "test": self.test,
            "check": self.check,
            "received": self.received,
            "documented": self.documented,
            "source": self.source,
            "message": self.message,
        }
        if self.replayable:
            data["replay"] = {
                "expectation": self.expectation,
                "volume_size": self.volume_size,
                "seen_ids": list(self.seen_ids),
            }
        if self.exchange is not None:
            data["exchange"] = self.exchange
        return data


@dataclass(frozen=True)
class RequirementVerdict:
    """The merged verdict of one requirement, with the evidence a reader (or a vendor) needs."""

    id: str
    verdict: Verdict
    evidence: str
    reproduction: str | None = None
    #: Exchanges that showed the requirement held.
    checked: int = 0
    #: Exchanges (or observations) that broke it.
    violations: int = 0
    #: Exchanges where the document is silent about it.
    silent: int = 0
    #: What the target did where the document is silent, kept whatever the verdict.
    observations: tuple[Observation, ...] = ()
    #: Each test that contributed, in the order first seen, with what it showed of this requirement:
    #: ``violated`` (it broke it at least once), else ``checked`` (it held), else ``silent``.
    tests: tuple[tuple[str, str], ...] = ()
    #: The smallest failing case (fail verdicts only).
    minimal: MinimalCase | None = None

    @property
    def broken_source(self) -> str | None:
        """Where the document states what the minimal case broke (a table row, the field's x-source)."""
        return self.minimal.source or None if self.minimal is not None else None


@dataclass(frozen=True)
class LeftSnapshot:
    """A snapshot the run created and could not clean up, and why."""

    id: str
    reason: str


@dataclass(frozen=True)
class Cleanup:
    """What cleanup at the end of a run did: snapshots deleted (and seen gone), and those left behind."""

    deleted: int = 0
    left: tuple[LeftSnapshot, ...] = ()
    #: Why cleanup did not run at all (``--no-cleanup``, the embedded mock), or None when it ran.
    skipped: str | None = None
    #: Snapshots found gone before cleanup deleted them (not counted as deleted: cleanup did not do it).
    already_gone: int = 0


@dataclass(frozen=True)
class Stats:
    """Run-wide figures: HTTP exchanges checked, snapshots created, response times per status code.

    ``response_times`` maps a status code (``"none"`` without a response) to counts per bucket of
    ``TIME_BUCKETS_MS``, one more than the bounds for the open last bucket.
    """

    cases: int = 0
    creates: int = 0
    response_times: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class _Tally:
    """The observations of one requirement, aggregated until the next flush."""

    count: int = 0
    silent: int = 0
    tests: dict[str, None] = field(default_factory=dict)
    silent_tests: dict[str, None] = field(default_factory=dict)
    evidence: dict[str, None] = field(default_factory=dict)


class Ledger:
    """One process's observations, appended to a JSON-lines file."""

    def __init__(self, path: Path, *, redact: Callable[[str], str] | None = None) -> None:
        self.path = path
        #: Applied to every line before it is written, so no secret reaches the file.
        self.redact = redact
        #: The test in progress, used when a call names none.
        self.current_test = ""
        self.cases = 0
        self.creates = 0
        self._tallies: dict[str, _Tally] = defaultdict(_Tally)
        self._written_infos: set[tuple[str, str]] = set()
        self._violations: dict[str, tuple[int, int]] = {}  # requirement -> (count, smallest size)
        self._failed_tests: set[str] = set()
        self._times: dict[str, list[int]] = {}
        self._file: IO[str] | None = None

    # -- what the suite reports ---------------------------------------------------------------------
    def record(self, outcome: Outcome, exchange: Exchange, *, test: str = "") -> None:
        """Record everything one checked exchange proved."""
        test = test or self.current_test
        self.cases += 1
        self._time(exchange)
        broken = {v.requirement for v in outcome.violations}
        for requirement in sorted(outcome.checked - broken):
            self._ok(requirement, test, "")
        for violation in outcome.violations:
            self._violation(violation, exchange, test, outcome)
        for requirement, sentence in outcome.infos:
            self._info(requirement, sentence, exchange, test)

    def observe(
        self, requirement: str, *, ok: bool, evidence: str, exchange: Exchange | None = None, test: str = ""
    ) -> None:
        """Record one observation made outside the create checks (lifecycle, probes)."""
        test = test or self.current_test
        if exchange is not None:
            self._time(exchange)
        if ok:
            self._ok(requirement, test, evidence)
            return
        self._failed_tests.add(test)
        self._write_violation(requirement, test, {"check": "", "message": evidence}, exchange)

    def info(self, requirement: str, evidence: str, exchange: Exchange | None = None, test: str = "") -> None:
        """Record what the target did where the document is silent."""
        if exchange is not None:
            self._time(exchange)
        self._info(requirement, evidence, exchange, test or self.current_test)

    def _info(self, requirement: str, evidence: str, exchange: Exchange | None, test: str) -> None:
        tally = self._tallies[requirement]
        tally.silent += 1
        if test:
            tally.silent_tests[test] = None
        if (requirement, evidence) in self._written_infos:
            return
        self._written_infos.add((requirement, evidence))
        line: dict[str, Any] = {"kind": "info", "req": requirement, "test": test, "evidence": evidence}
        if exchange is not None:
            line["curl"] = exchange.curl()
        self._write(line)

    def skip(self, requirement: str, reason: str) -> None:
        """Record that a requirement was not tested, and why (a configuration reason)."""
        self._write({"kind": "skip", "req": requirement, "reason": reason})

    def cleaned(self, cleanup: Cleanup) -> None:
        """Record what this process's cleanup deleted and left behind."""
        self._write(
            {
                "kind": "cleanup",
                "deleted": cleanup.deleted,
                "already_gone": cleanup.already_gone,
                "left": [{"id": s.id, "reason": s.reason} for s in cleanup.left],
                "skipped": cleanup.skipped,
            }
        )

    def describe(self, target: Mapping[str, Any]) -> None:
        """Record what this process tested (no secrets), for the report's ``target``."""
        self._write({"kind": "target", "target": dict(target)})

    def has_failed(self, test: str) -> bool:
        """Whether this process recorded a violation for ``test``."""
        return test in self._failed_tests

    # -- lifetime -----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the aggregated observations and figures gathered since the last flush."""
        for requirement, tally in sorted(self._tallies.items()):
            self._write(
                {
                    "kind": "ok",
                    "req": requirement,
                    "count": tally.count,
                    "silent": tally.silent,
                    "tests": list(tally.tests),
                    "silent_tests": list(tally.silent_tests),
                    "evidence": list(tally.evidence)[:_SENTENCES_SHOWN],
                }
            )
        self._tallies.clear()
        if self._file is None and not (self.cases or self.creates):
            return
        self._write({"kind": "stats", "cases": self.cases, "creates": self.creates, "times": self._times})
        self.cases = self.creates = 0
        self._times = {}
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- internals ----------------------------------------------------------------------------------
    def _ok(self, requirement: str, test: str, evidence: str) -> None:
        tally = self._tallies[requirement]
        tally.count += 1
        if test:
            tally.tests[test] = None
        if evidence:
            tally.evidence[evidence] = None

    def _time(self, exchange: Exchange) -> None:
        status = str(exchange.response.status) if exchange.response is not None else NO_RESPONSE
        counts = self._times.setdefault(status, [0] * (len(TIME_BUCKETS_MS) + 1))
        counts[bisect.bisect_left(TIME_BUCKETS_MS, exchange.elapsed_s * 1000)] += 1

    def _violation(self, violation: Violation, exchange: Exchange, test: str, outcome: Outcome) -> None:
        self._failed_tests.add(test)
        fields: dict[str, Any] = violation.as_dict()
        del fields["requirement"]
        if outcome.criteria is not None:
            expectation = outcome.criteria.expectation
            fields["replay"] = {
                "expectation": None if expectation is None else expectation.as_dict(),
                "volume_size": outcome.criteria.volume_size,
                "seen_ids": _answered_id(exchange) if violation.check == "id_is_fresh" else [],
            }
        self._write_violation(violation.requirement, test, fields, exchange)

    def _write_violation(
        self, requirement: str, test: str, fields: dict[str, Any], exchange: Exchange | None
    ) -> None:
        size = _size(exchange)
        count, smallest = self._violations.get(requirement, (0, size))
        self._violations[requirement] = (count + 1, min(smallest, size))
        if count >= _VIOLATIONS_KEPT and size >= smallest:
            self._write({"kind": "violation-count", "req": requirement, "test": test, "count": 1})
            return
        line: dict[str, Any] = {"kind": "violation", "req": requirement, "test": test, **fields, "size": size}
        if exchange is not None:
            line["curl"] = exchange.curl()
            line["exchange"] = har_entry(exchange, redact=self.redact, body_limit=RESPONSE_BODY_KEPT)
        self._write(line)

    def _write(self, line: dict[str, Any]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        if self.redact is not None:
            line = redact_values(line, self.redact)
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")


def redact_values(data: Any, redact: Callable[[str], str]) -> Any:
    """``data`` with ``redact`` applied to every string value in it (keys are the tool's own words)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, Mapping):
        return {key: redact_values(value, redact) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redact_values(value, redact) for value in data]
    return data


def _answered_id(exchange: Exchange) -> list[str]:
    """The snapshot ID an answer names (the one a duplicate-ID failure is about), as a list."""
    try:
        body = exchange.response.json() if exchange.response is not None else None
    except ValueError:
        return []
    summary = next(iter(body.values()), None) if isinstance(body, dict) and len(body) == 1 else None
    found = summary.get("id") if isinstance(summary, dict) else None
    return [found] if isinstance(found, str) else []


def _size(exchange: Exchange | None) -> int:
    """How big a failing case is; smaller is the better reproduction."""
    if exchange is None:
        return 0
    return len(exchange.request.body or b"") + len(exchange.request.url)


def ledger_files(directory: Path) -> list[Path]:
    """The ledger files of a run (one per process)."""
    return sorted(directory.glob("*.jsonl")) if directory.is_dir() else []


def read_lines(paths: Iterable[Path]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            lines.extend(json.loads(text) for text in handle if text.strip())
    return lines


def read_target(paths: Iterable[Path]) -> dict[str, Any] | None:
    """The target the first process described (every process tests the same endpoint)."""
    for line in read_lines(paths):
        if line["kind"] == "target":
            return dict(line["target"])
    return None


def merge_cleanup(paths: Iterable[Path]) -> Cleanup | None:
    """Add up the cleanups of every process; None when no process recorded one."""
    deleted = gone = 0
    left: list[LeftSnapshot] = []
    skipped: dict[str, None] = {}
    seen = False
    for line in read_lines(paths):
        if line["kind"] != "cleanup":
            continue
        seen = True
        deleted += int(line["deleted"])
        gone += int(line.get("already_gone", 0))
        left += [LeftSnapshot(str(entry["id"]), str(entry["reason"])) for entry in line["left"]]
        if line.get("skipped"):
            skipped[str(line["skipped"])] = None
    if not seen:
        return None
    # Every process skips for the same reason, or none does.
    return Cleanup(deleted, tuple(left), next(iter(skipped), None), gone)


def merge_stats(paths: Iterable[Path]) -> Stats:
    """Sum the figures of every process."""
    cases = creates = 0
    times: dict[str, list[int]] = {}
    for line in read_lines(paths):
        if line["kind"] == "stats":
            cases += int(line["cases"])
            creates += int(line["creates"])
            for status, counts in line.get("times", {}).items():
                total = times.setdefault(status, [0] * len(counts))
                times[status] = [a + int(b) for a, b in zip(total, counts, strict=True)]
    ordered = sorted(times.items(), key=lambda item: (not item[0].isdigit(), item[0]))
    return Stats(cases, creates, {status: tuple(counts) for status, counts in ordered})


#: What a test showed of a requirement, weakest first: a later, stronger showing replaces an earlier one.
TEST_OUTCOMES = ("silent", "checked", "violated")


@dataclass
class _Merged:
    ok: int = 0
    silent: int = 0
    tests: dict[str, str] = field(default_factory=dict)
    ok_tests: dict[str, None] = field(default_factory=dict)
    ok_evidence: dict[str, None] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)
    violation_count: int = 0
    failing_tests: dict[str, None] = field(default_factory=dict)
    infos: dict[str, str | None] = field(default_factory=dict)
    skips: dict[str, None] = field(default_factory=dict)

    def saw(self, test: str, outcome: str) -> None:
        if not test:
            return
        before = self.tests.get(test)
        if before is None or TEST_OUTCOMES.index(outcome) > TEST_OUTCOMES.index(before):
            self.tests[test] = outcome


def merge(paths: Iterable[Path]) -> dict[str, RequirementVerdict]:
    """One verdict per requirement seen in any ledger: fail > pass > info > skip."""
    merged: dict[str, _Merged] = defaultdict(_Merged)
    for line in read_lines(paths):
        kind = line["kind"]
        if kind in ("stats", "target", "cleanup"):
            continue
        entry = merged[line["req"]]
        if kind == "ok":
            entry.ok += int(line["count"])
            entry.silent += int(line.get("silent", 0))
            entry.ok_tests.update(dict.fromkeys(line["tests"]))
            for test in line["tests"]:
                entry.saw(test, "checked")
            for test in line.get("silent_tests", ()):
                entry.saw(test, "silent")
            entry.ok_evidence.update(dict.fromkeys(line["evidence"]))
        elif kind in ("violation", "violation-count"):
            entry.violation_count += 1
            entry.failing_tests[line["test"]] = None
            entry.saw(line["test"], "violated")
            if kind == "violation":
                entry.violations.append(line)
        elif kind == "info":
            if entry.infos.get(line["evidence"]) is None:
                entry.infos[line["evidence"]] = line.get("curl")
            entry.saw(line.get("test", ""), "silent")
        elif kind == "skip":
            entry.skips[line["reason"]] = None
    return {requirement: _verdict(requirement, entry) for requirement, entry in sorted(merged.items())}


def _verdict(requirement: str, entry: _Merged) -> RequirementVerdict:
    def made(
        verdict: Verdict, evidence: str, curl: str | None = None, minimal: MinimalCase | None = None
    ) -> RequirementVerdict:
        return RequirementVerdict(
            requirement,
            verdict,
            evidence,
            curl,
            checked=entry.ok,
            violations=entry.violation_count,
            silent=entry.silent,
            observations=tuple(Observation(_sentence(text), curl) for text, curl in entry.infos.items()),
            tests=tuple(entry.tests.items()),
            minimal=minimal,
        )

    if entry.violations:
        # Hypothesis shrinks towards small inputs; the smallest recorded case is the one to hand over.
        line = min(entry.violations, key=lambda v: (int(v["size"]), len(v["message"])))
        minimal = _minimal(line)
        tests = _listed(entry.failing_tests)
        evidence = (
            f"{entry.violation_count} violation(s) in {tests}. "
            f"Minimal case ({minimal.check or minimal.test}):\n{minimal.message}"
        )
        return made(FAIL, evidence, line.get("curl"), minimal)
    if entry.ok:
        evidence = f"Checked on {entry.ok} observation(s) in {_listed(entry.ok_tests)}."
        sentences = list(entry.ok_evidence)[:_SENTENCES_SHOWN]
        if sentences:
            evidence += " " + " ".join(_sentence(s) for s in sentences)
        return made(PASS, evidence)
    if entry.infos:
        sentences = list(entry.infos)
        evidence = " ".join(_sentence(s) for s in sentences[:_SENTENCES_SHOWN])
        if len(sentences) > _SENTENCES_SHOWN:
            evidence += f" (and {len(sentences) - _SENTENCES_SHOWN} more observations)"
        curl = next((c for c in entry.infos.values() if c), None)
        return made(INFO, evidence, curl)
    reasons = " ".join(_sentence(r) for r in entry.skips) or "Not exercised in this run."
    return made(SKIP, reasons)


def _minimal(line: Mapping[str, Any]) -> MinimalCase:
    replay = line.get("replay")
    return MinimalCase(
        test=str(line.get("test", "")),
        check=str(line.get("check", "")),
        received=str(line.get("received", "")),
        documented=str(line.get("documented", "")),
        source=str(line.get("source", "")),
        message=str(line["message"]),
        exchange=line.get("exchange"),
        expectation=replay.get("expectation") if replay else None,
        volume_size=replay.get("volume_size") if replay else None,
        replayable=replay is not None,
        seen_ids=tuple(replay.get("seen_ids", ())) if replay else (),
    )


def _listed(tests: dict[str, None]) -> str:
    names = [t for t in tests if t]
    if not names:
        return "the run"
    shown = ", ".join(names[:_SENTENCES_SHOWN])
    more = len(names) - _SENTENCES_SHOWN
    label = "test" if len(names) == 1 else "tests"
    return f"{label} {shown}" + (f" and {more} more" if more > 0 else "")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", ")")) else text + "."
