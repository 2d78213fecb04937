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

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from conformance.checks.model import Outcome, Violation
    from conformance.exchange import Exchange

Verdict = Literal["pass", "fail", "info", "skip"]

# Hypothesis replays failing examples while it shrinks; past this many per requirement a process only
# writes a violation that is smaller than every one before it, so the minimal case is never lost.
_VIOLATIONS_KEPT = 20
_SENTENCES_SHOWN = 3
#: A violation message names the document line it was judged by as ``Documented: ... (<source>)``.
_DOCUMENTED_SOURCE = re.compile(r"^Documented: .*\(([^()]+)\)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class RequirementVerdict:
    """The merged verdict of one requirement, with the evidence a reader (or a vendor) needs."""

    id: str
    verdict: Verdict
    evidence: str
    reproduction: str | None = None
    observations: int = 0
    violations: int = 0
    #: Where the document states what the minimal case broke (a table row, the field's x-source).
    document_line: str | None = None


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
    """Run-wide figures: HTTP exchanges checked and snapshots created."""

    cases: int = 0
    creates: int = 0


@dataclass
class _Tally:
    """The ok observations of one requirement, aggregated until the next flush."""

    count: int = 0
    tests: dict[str, None] = field(default_factory=dict)
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
        self._file: IO[str] | None = None

    # -- what the suite reports ---------------------------------------------------------------------
    def record(self, outcome: Outcome, exchange: Exchange, *, test: str = "") -> None:
        """Record everything one checked exchange proved."""
        test = test or self.current_test
        self.cases += 1
        broken = {v.requirement for v in outcome.violations}
        for requirement in sorted(outcome.checked - broken):
            self._ok(requirement, test, "")
        for violation in outcome.violations:
            self._violation(violation, exchange, test)
        for requirement, sentence in outcome.infos:
            self.info(requirement, sentence, exchange, test)

    def observe(
        self, requirement: str, *, ok: bool, evidence: str, exchange: Exchange | None = None, test: str = ""
    ) -> None:
        """Record one observation made outside the create checks (lifecycle, probes)."""
        test = test or self.current_test
        if ok:
            self._ok(requirement, test, evidence)
            return
        self._failed_tests.add(test)
        self._write_violation(requirement, test, "", evidence, exchange)

    def info(self, requirement: str, evidence: str, exchange: Exchange | None = None, test: str = "") -> None:
        """Record what the target did where the document is silent."""
        test = test or self.current_test
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
                    "tests": list(tally.tests),
                    "evidence": list(tally.evidence)[:_SENTENCES_SHOWN],
                }
            )
        self._tallies.clear()
        if self._file is None and not (self.cases or self.creates):
            return
        self._write({"kind": "stats", "cases": self.cases, "creates": self.creates})
        self.cases = self.creates = 0
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

    def _violation(self, violation: Violation, exchange: Exchange, test: str) -> None:
        self._failed_tests.add(test)
        self._write_violation(violation.requirement, test, violation.check, violation.message, exchange)

    def _write_violation(
        self, requirement: str, test: str, check: str, message: str, exchange: Exchange | None
    ) -> None:
        size = _size(exchange)
        count, smallest = self._violations.get(requirement, (0, size))
        self._violations[requirement] = (count + 1, min(smallest, size))
        if count >= _VIOLATIONS_KEPT and size >= smallest:
            self._write({"kind": "violation-count", "req": requirement, "test": test, "count": 1})
            return
        line: dict[str, Any] = {
            "kind": "violation",
            "req": requirement,
            "test": test,
            "check": check,
            "message": message,
            "size": size,
        }
        if exchange is not None:
            line["curl"] = exchange.curl()
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
    for line in read_lines(paths):
        if line["kind"] == "stats":
            cases += int(line["cases"])
            creates += int(line["creates"])
    return Stats(cases, creates)


@dataclass
class _Merged:
    ok: int = 0
    ok_tests: dict[str, None] = field(default_factory=dict)
    ok_evidence: dict[str, None] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)
    violation_count: int = 0
    failing_tests: dict[str, None] = field(default_factory=dict)
    infos: dict[str, None] = field(default_factory=dict)
    info_curl: str | None = None
    skips: dict[str, None] = field(default_factory=dict)


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
            entry.ok_tests.update(dict.fromkeys(line["tests"]))
            entry.ok_evidence.update(dict.fromkeys(line["evidence"]))
        elif kind in ("violation", "violation-count"):
            entry.violation_count += 1
            entry.failing_tests[line["test"]] = None
            if kind == "violation":
                entry.violations.append(line)
        elif kind == "info":
            entry.infos[line["evidence"]] = None
            entry.info_curl = entry.info_curl or line.get("curl")
        elif kind == "skip":
            entry.skips[line["reason"]] = None
    return {requirement: _verdict(requirement, entry) for requirement, entry in sorted(merged.items())}


def _verdict(requirement: str, entry: _Merged) -> RequirementVerdict:
    if entry.violations:
        # Hypothesis shrinks towards small inputs; the smallest recorded case is the one to hand over.
        minimal = min(entry.violations, key=lambda v: (int(v["size"]), len(v["message"])))
        tests = _listed(entry.failing_tests)
        evidence = (
            f"{entry.violation_count} violation(s) in {tests}. "
            f"Minimal case ({minimal['check'] or minimal['test']}):\n{minimal['message']}"
        )
        return RequirementVerdict(
            requirement,
            "fail",
            evidence,
            minimal.get("curl"),
            entry.ok,
            entry.violation_count,
            document_line(str(minimal["message"])),
        )
    if entry.ok:
        evidence = f"Checked on {entry.ok} observation(s) in {_listed(entry.ok_tests)}."
        sentences = list(entry.ok_evidence)[:_SENTENCES_SHOWN]
        if sentences:
            evidence += " " + " ".join(_sentence(s) for s in sentences)
        return RequirementVerdict(requirement, "pass", evidence, None, entry.ok)
    if entry.infos:
        sentences = list(entry.infos)
        evidence = " ".join(_sentence(s) for s in sentences[:_SENTENCES_SHOWN])
        if len(sentences) > _SENTENCES_SHOWN:
            evidence += f" (and {len(sentences) - _SENTENCES_SHOWN} more observations)"
        return RequirementVerdict(requirement, "info", evidence, entry.info_curl)
    reasons = " ".join(_sentence(r) for r in entry.skips) or "Not exercised in this run."
    return RequirementVerdict(requirement, "skip", reasons)


def document_line(message: str) -> str | None:
    """The document line a violation message was judged by (``Documented: ... (Table 4 .../name)``)."""
    found = _DOCUMENTED_SOURCE.findall(message)
    return found[-1].strip() if found else None


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
