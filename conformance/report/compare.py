"""What changed between two conformance runs: new failures, lost coverage, fixes, everything else that moved.

A run regresses when a requirement fails that did not fail before, or when one that was tested before
(``pass``, ``fail``, ``info`` or ``waived``) is now ``skip`` or missing: a run that stops testing something
must not read "no new failures". Reports are read strictly: an unknown verdict word (``"FAIL"``) is an error,
not a requirement silently left out. Everything shown comes from the files, so the text summary escapes
control characters (an ID holding an escape sequence cannot retitle the terminal or forge a line).

Example::

    old = parse_report(old_text, source="baseline.json")
    new = parse_report(new_text, source="conformance.json")
    comparison = compare_reports(old, new)
    print(comparison.summary())
    comparison.regressed          # True on a new failure or lost coverage: gate CI on it
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.core.display import for_terminal, quoted
from conformance.core.errors import UsageError
from conformance.core.verdicts import FAIL, PASS, REACHED, RUN_VERDICTS, SKIP, VERDICTS

#: Verdicts that say the requirement was tested; losing one of them is a regression.
COVERED = REACHED
#: How a requirement missing from one of the two reports is shown.
ABSENT = "absent"
#: The largest report ``parse_report`` reads; a real one is a few hundred kilobytes.
MAX_REPORT_BYTES = 32 * 1024 * 1024
_SHOWN = 200


@dataclass(frozen=True)
class Change:
    """One requirement's verdict in the old and the new run (None where the run does not list it)."""

    id: str
    title: str
    old: str | None
    new: str | None

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON-ready data."""
        return {"id": self.id, "title": self.title, "old": self.old, "new": self.new}

    def line(self) -> str:
        """``ID  old -> new  title`` for the text summary, safe to print on a terminal."""
        text = f"{_shown(self.id)}  {self.old or ABSENT} -> {self.new or ABSENT}  {_shown(self.title)}"
        return text.rstrip()


@dataclass(frozen=True)
class Comparison:
    """Two runs of one profile, requirement by requirement."""

    profile: str
    new_failures: tuple[Change, ...]
    lost_coverage: tuple[Change, ...]
    fixes: tuple[Change, ...]
    still_failing: tuple[Change, ...]
    other_changes: tuple[Change, ...]
    added: tuple[Change, ...]
    removed: tuple[Change, ...]
    old_verdict: str
    new_verdict: str
    notes: tuple[str, ...] = ()

    @property
    def regressed(self) -> bool:
        """Whether a requirement fails that did not fail before, or one tested before is skipped or gone."""
        return bool(self.new_failures or self.lost_coverage)

    def as_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready data (the ``--json`` output)."""
        return {
            "profile": self.profile,
            "regressed": self.regressed,
            "verdict": {"old": self.old_verdict, "new": self.new_verdict},
            "new_failures": [change.as_dict() for change in self.new_failures],
            "lost_coverage": [change.as_dict() for change in self.lost_coverage],
            "fixes": [change.as_dict() for change in self.fixes],
            "still_failing": [change.as_dict() for change in self.still_failing],
            "other_changes": [change.as_dict() for change in self.other_changes],
            "added": [change.as_dict() for change in self.added],
            "removed": [change.as_dict() for change in self.removed],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """A readable multi-line summary, the most important section first."""
        lines = [f"profile {_shown(self.profile)}: run verdict {self.old_verdict} -> {self.new_verdict}"]
        lines.extend(f"note: {_shown(note)}" for note in self.notes)
        sections = (
            ("new failures", self.new_failures),
            ("lost coverage (tested before, skipped or missing now)", self.lost_coverage),
            ("fixed", self.fixes),
            ("still failing", self.still_failing),
            ("other changes", self.other_changes),
            ("requirements added", self.added),
            ("requirements removed", self.removed),
        )
        for heading, changes in sections:
            if changes:
                lines.append(f"{heading} ({len(changes)}):")
                lines.extend(f"  {change.line()}" for change in changes)
        if self.regressed:
            parts = []
            if self.new_failures:
                count = len(self.new_failures)
                parts.append(f"{count} new failure{'s' if count != 1 else ''}")
            if self.lost_coverage:
                count = len(self.lost_coverage)
                parts.append(f"{count} requirement{'s' if count != 1 else ''} no longer tested")
            lines.append(f"result: {', '.join(parts)}")
        else:
            lines.append("result: no new failures")
        return "\n".join(lines)


def parse_report(text: str, *, source: str) -> dict[str, Any]:
    """Read a ``conformance.json`` text, checking what a comparison needs; extra fields are kept."""
    where = for_terminal(source, limit=_SHOWN)
    if len(text) > MAX_REPORT_BYTES:
        raise UsageError(f"{where}: more than {MAX_REPORT_BYTES} bytes; not a conformance.json report")
    try:
        report = json.loads(text)
    except RecursionError:
        raise UsageError(f"{where}: nested too deeply to be a conformance.json report") from None
    except ValueError as exc:
        raise UsageError(f"{where}: not valid JSON ({for_terminal(str(exc), limit=_SHOWN)})") from None
    if not isinstance(report, dict):
        raise UsageError(f"{where}: expected a JSON object (a conformance.json report)")
    if not isinstance(report.get("profile"), str):
        raise UsageError(f"{where}: no 'profile'; is this a conformance.json report?")
    verdict = report.get("verdict", PASS)
    if not (isinstance(verdict, str) and verdict in RUN_VERDICTS):
        shown = _shown_value(verdict)
        raise UsageError(f"{where}: the run's verdict {shown} is not one of {_words(RUN_VERDICTS)}")
    requirements = report.get("requirements")
    if not isinstance(requirements, list):
        raise UsageError(f"{where}: no 'requirements' list; is this a conformance.json report?")
    seen: set[str] = set()
    for number, requirement in enumerate(requirements, start=1):
        if not (
            isinstance(requirement, dict)
            and isinstance(requirement.get("id"), str)
            and isinstance(requirement.get("verdict"), str)
        ):
            raise UsageError(f"{where}: requirement {number} needs a string 'id' and 'verdict'")
        shown_id = _shown(requirement["id"])
        if requirement["verdict"] not in VERDICTS:
            raise UsageError(
                f"{where}: requirement {shown_id} has the verdict {_shown_value(requirement['verdict'])}, "
                f"not one of {_words(VERDICTS)}"
            )
        if not isinstance(requirement.get("title", ""), str):
            raise UsageError(f"{where}: requirement {shown_id} has a 'title' that is not a string")
        if requirement["id"] in seen:
            raise UsageError(f"{where}: requirement {shown_id} is listed twice")
        seen.add(requirement["id"])
    return report


def compare_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> Comparison:
    """Classify every requirement of two parsed reports of the same profile."""
    if old["profile"] != new["profile"]:
        raise UsageError(
            f"cannot compare a {_shown_value(old['profile'])} run with a {_shown_value(new['profile'])} run"
        )
    notes: list[str] = []
    if old.get("api_version") != new.get("api_version"):
        old_api, new_api = (_plain(report.get("api_version")) for report in (old, new))
        notes.append(f"API version differs: {old_api} -> {new_api}")
    old_by_id = {requirement["id"]: requirement for requirement in old["requirements"]}
    new_by_id = {requirement["id"]: requirement for requirement in new["requirements"]}
    # Keep the new run's order (the catalogue's), then whatever only the old run had.
    ordered = list(new_by_id) + [key for key in old_by_id if key not in new_by_id]
    buckets: dict[str, list[Change]] = {
        name: [] for name in ("new", "lost", "fixed", "still", "other", "added", "removed")
    }
    for key in ordered:
        before, after = old_by_id.get(key), new_by_id.get(key)
        title = str((after or before or {}).get("title", ""))
        change = Change(
            id=key,
            title=title,
            old=None if before is None else before["verdict"],
            new=None if after is None else after["verdict"],
        )
        buckets_for = _bucket(change)
        if before is None:
            buckets["added"].append(change)
        if after is None and buckets_for != "lost":
            buckets["removed"].append(change)
        if buckets_for is not None:
            buckets[buckets_for].append(change)
    return Comparison(
        profile=str(new["profile"]),
        new_failures=tuple(buckets["new"]),
        lost_coverage=tuple(buckets["lost"]),
        fixes=tuple(buckets["fixed"]),
        still_failing=tuple(buckets["still"]),
        other_changes=tuple(buckets["other"]),
        added=tuple(buckets["added"]),
        removed=tuple(buckets["removed"]),
        old_verdict=str(old.get("verdict", "unknown")),
        new_verdict=str(new.get("verdict", "unknown")),
        notes=tuple(notes),
    )


def _bucket(change: Change) -> str | None:
    if change.new == FAIL:
        return "still" if change.old == FAIL else "new"
    if change.old in COVERED and change.new in (SKIP, None):
        return "lost"
    if change.old is None or change.new is None:
        # Added (not failing) or removed: listed under added/removed only.
        return None
    if change.old == FAIL and change.new == PASS:
        return "fixed"
    if change.old != change.new:
        return "other"
    return None


def _shown(text: str) -> str:
    return for_terminal(text, limit=_SHOWN)


def _shown_value(value: object) -> str:
    return quoted(_plain(value), limit=_SHOWN)


def _plain(value: object) -> str:
    """A value of a report as short text; a list or an object is named, never printed (it may be huge)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)[:_SHOWN]
    return "a list" if isinstance(value, list) else "an object"


def _words(words: Collection[str]) -> str:
    return ", ".join(sorted(words))
