"""Waivers: known failures a user accepts for a while, with a reason, so they do not fail the run.

A waiver file is YAML::

    waivers:
      - id: REQ-NAME
        reason: "vendor ticket 1234, fixed in the next release"
        expires: 2027-06-30   # optional; the waiver holds until the end of that day

Example::

    waivers = parse_waivers(text, source="waivers.yaml", known_ids=ids, today=date.today())
    report = apply_waivers(report, waivers, today=date.today())
    report["verdict"]              # "pass" when every failure was waived
    report["waivers"]["unused"]    # waivers whose requirement did not fail: candidates to drop
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from conformance.errors import UsageError
from conformance.verdicts import FAIL, INCOMPLETE, PASS, WAIVED

_ENTRY_KEYS = frozenset({"id", "reason", "expires"})


@dataclass(frozen=True)
class Waiver:
    """One accepted failure: the requirement it covers, why, and until when (None: no end date)."""

    id: str
    reason: str
    expires: date | None = None

    def expired(self, today: date) -> bool:
        """Whether the waiver no longer holds on ``today`` (it still holds on its expiry day)."""
        return self.expires is not None and self.expires < today

    def as_dict(self) -> dict[str, Any]:
        """The waiver as JSON-ready data."""
        return {
            "id": self.id,
            "reason": self.reason,
            "expires": None if self.expires is None else self.expires.isoformat(),
        }


def parse_waivers(text: str, *, source: str, known_ids: Collection[str], today: date) -> tuple[Waiver, ...]:
    """Parse and strictly validate a waiver file's text; ``source`` names the file in error messages."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{source}: not valid YAML ({_yaml_problem(exc)})") from exc
    if not isinstance(document, Mapping) or set(document) != {"waivers"}:
        raise UsageError(f"{source}: expected a mapping with a single key 'waivers' holding a list")
    entries = document["waivers"]
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise UsageError(f"{source}: 'waivers' must be a list")
    waivers: list[Waiver] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        waiver = _parse_entry(entry, where=f"{source}: waiver {number}", known_ids=known_ids, today=today)
        if waiver.id in seen:
            raise UsageError(
                f"{source}: waiver {number} ({waiver.id}): duplicate of waiver {seen[waiver.id]}"
            )
        seen[waiver.id] = number
        waivers.append(waiver)
    return tuple(waivers)


def _parse_entry(entry: object, *, where: str, known_ids: Collection[str], today: date) -> Waiver:
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where}: expected a mapping with 'id', 'reason' and optionally 'expires'")
    requirement = entry.get("id")
    if not isinstance(requirement, str) or not requirement.strip():
        raise UsageError(f"{where}: 'id' must be a requirement ID such as REQ-NAME")
    requirement = requirement.strip()
    where = f"{where} ({requirement})"
    unknown_keys = sorted(str(key) for key in entry if key not in _ENTRY_KEYS)
    if unknown_keys:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown_keys)}")
    if requirement not in known_ids:
        raise UsageError(f"{where}: unknown requirement ID")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise UsageError(f"{where}: a non-empty 'reason' is required")
    expires = _parse_expiry(entry.get("expires"), where=where)
    waiver = Waiver(id=requirement, reason=" ".join(reason.split()), expires=expires)
    if waiver.expired(today):
        raise UsageError(f"{where}: expired on {expires}")
    return waiver


def _parse_expiry(value: object, *, where: str) -> date | None:
    if value is None:
        return None
    # datetime is a date subclass; a time of day would make "expires" ambiguous, so refuse it.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UsageError(f"{where}: 'expires' must be a date written YYYY-MM-DD, got {value!r}")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "unreadable"
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def apply_waivers(report: Mapping[str, Any], waivers: Iterable[Waiver], *, today: date) -> dict[str, Any]:
    """A copy of a conformance report where waived failures read ``waived`` and the verdict is recomputed.

    Each waived requirement keeps its evidence and gains ``waiver: {reason, expires}``; the report gains
    ``waivers: {applied: [ID, ...], unused: [{id, reason, expires, verdict}, ...]}`` where ``verdict`` is
    what the requirement got (``absent`` when the report does not list it); ``counts``, when present, is
    recounted with a ``waived`` entry.
    """
    result = copy.deepcopy(dict(report))
    requirements: list[dict[str, Any]] = result.get("requirements", [])
    by_id = {requirement["id"]: requirement for requirement in requirements}
    failed_before = any(requirement.get("verdict") == FAIL for requirement in requirements)
    applied: list[str] = []
    unused: list[dict[str, Any]] = []
    for waiver in waivers:
        if waiver.expired(today):
            raise UsageError(f"waiver for {waiver.id} expired on {waiver.expires}")
        requirement = by_id.get(waiver.id)
        if requirement is not None and requirement.get("verdict") == FAIL:
            requirement["verdict"] = WAIVED
            requirement["waiver"] = {"reason": waiver.reason, "expires": waiver.as_dict()["expires"]}
            applied.append(waiver.id)
        else:
            verdict = "absent" if requirement is None else str(requirement.get("verdict"))
            unused.append({**waiver.as_dict(), "verdict": verdict})
    failing_now = any(requirement.get("verdict") == FAIL for requirement in requirements)
    # A run that failed for a reason outside the requirements (none of them failed) cannot be waived.
    unwaivable = result.get("verdict") == FAIL and not failed_before
    result["verdict"] = FAIL if failing_now or unwaivable else PASS
    if result.get("incomplete_reason"):
        result["verdict"] = INCOMPLETE
    result["waivers"] = {"applied": applied, "unused": unused}
    if isinstance(result.get("counts"), Mapping):
        tally = Counter(str(requirement.get("verdict")) for requirement in requirements)
        keys = dict.fromkeys([*result["counts"], WAIVED])
        result["counts"] = {key: tally[key] for key in keys}
    return result


def unused_waiver_lines(report: Mapping[str, Any]) -> list[str]:
    """One console line per waiver that matched no failure, so users can drop it from their file."""
    unused = report.get("waivers", {}).get("unused", [])
    return [
        f"waiver for {entry['id']} is unused (the requirement's verdict is {entry['verdict']}); "
        "consider removing it"
        for entry in unused
    ]
