"""What changed between two conformance runs: new failures, fixes, and everything else that moved.

Example::

    old = parse_report(old_text, source="baseline.json")
    new = parse_report(new_text, source="conformance.json")
    comparison = compare_reports(old, new)
    print(comparison.summary())
    comparison.regressed          # True when any requirement newly fails: gate CI on it
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.errors import UsageError
from conformance.verdicts import FAIL, PASS

#: How a requirement missing from one of the two reports is shown.
ABSENT = "absent"


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
        """``ID  old -> new  title`` for the text summary."""
        return f"{self.id}  {self.old or ABSENT} -> {self.new or ABSENT}  {self.title}".rstrip()


@dataclass(frozen=True)
class Comparison:
    """Two runs of one profile, requirement by requirement."""

    profile: str
    new_failures: tuple[Change, ...]
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
        """Whether any requirement fails now that did not fail (or did not exist) before."""
        return bool(self.new_failures)

    def as_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready data (the ``--json`` output)."""
        return {
            "profile": self.profile,
            "regressed": self.regressed,
            "verdict": {"old": self.old_verdict, "new": self.new_verdict},
            "new_failures": [change.as_dict() for change in self.new_failures],
            "fixes": [change.as_dict() for change in self.fixes],
            "still_failing": [change.as_dict() for change in self.still_failing],
            "other_changes": [change.as_dict() for change in self.other_changes],
            "added": [change.as_dict() for change in self.added],
            "removed": [change.as_dict() for change in self.removed],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """A readable multi-line summary, the most important section first."""
        lines = [f"profile {self.profile}: run verdict {self.old_verdict} -> {self.new_verdict}"]
        lines.extend(f"note: {note}" for note in self.notes)
        sections = (
            ("new failures", self.new_failures),
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
            count = len(self.new_failures)
            lines.append(f"result: {count} new failure{'s' if count != 1 else ''}")
        else:
            lines.append("result: no new failures")
        return "\n".join(lines)


def parse_report(text: str, *, source: str) -> dict[str, Any]:
    """Read a ``conformance.json`` text, checking only what a comparison needs; extra fields are kept."""
    try:
        report = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(report, dict):
        raise UsageError(f"{source}: expected a JSON object (a conformance.json report)")
    if not isinstance(report.get("profile"), str):
        raise UsageError(f"{source}: no 'profile'; is this a conformance.json report?")
    requirements = report.get("requirements")
    if not isinstance(requirements, list):
        raise UsageError(f"{source}: no 'requirements' list; is this a conformance.json report?")
    seen: set[str] = set()
    for number, requirement in enumerate(requirements, start=1):
        if not (
            isinstance(requirement, dict)
            and isinstance(requirement.get("id"), str)
            and isinstance(requirement.get("verdict"), str)
        ):
            raise UsageError(f"{source}: requirement {number} needs a string 'id' and 'verdict'")
        if requirement["id"] in seen:
            raise UsageError(f"{source}: requirement {requirement['id']} is listed twice")
        seen.add(requirement["id"])
    return report


def compare_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> Comparison:
    """Classify every requirement of two parsed reports of the same profile."""
    if old["profile"] != new["profile"]:
        raise UsageError(f"cannot compare a {old['profile']!r} run with a {new['profile']!r} run")
    notes: list[str] = []
    if old.get("api_version") != new.get("api_version"):
        notes.append(f"API version differs: {old.get('api_version')} -> {new.get('api_version')}")
    old_by_id = {requirement["id"]: requirement for requirement in old["requirements"]}
    new_by_id = {requirement["id"]: requirement for requirement in new["requirements"]}
    # Keep the new run's order (the catalogue's), then whatever only the old run had.
    ordered = list(new_by_id) + [key for key in old_by_id if key not in new_by_id]
    buckets: dict[str, list[Change]] = {
        name: [] for name in ("new", "fixed", "still", "other", "added", "removed")
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
        if before is None:
            buckets["added"].append(change)
        if after is None:
            buckets["removed"].append(change)
        buckets_for = _bucket(change)
        if buckets_for is not None:
            buckets[buckets_for].append(change)
    return Comparison(
        profile=str(new["profile"]),
        new_failures=tuple(buckets["new"]),
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
    if change.old is None or change.new is None:
        # Added (not failing) or removed: listed under added/removed only.
        return None
    if change.old == FAIL and change.new == PASS:
        return "fixed"
    if change.old != change.new:
        return "other"
    return None
