"""Waivers: known failures a user accepts for a while, with a reason, so they do not fail the run.

A waiver file is YAML::

    waivers:
      - id: REQ-NAME
        reason: "vendor ticket 1234, fixed in the next release"
        expires: 2027-06-30   # optional; the waiver holds until the end of that day

The file is read strictly and within bounds, whatever it holds: at most ``MAX_WAIVER_BYTES`` of UTF-8 from a
regular file; no anchors or aliases (an alias bomb expands a few lines into billions of nodes, so they are
refused before anything is built); at most ``MAX_DEPTH`` levels of nesting and ``MAX_NODES`` nodes; no
explicit tags; dates as text checked by this module (an impossible date is a one-line error, not a crash in
the YAML library). Every message shows the file's content with control characters escaped.

Example::

    waivers = load_waivers("waivers.yaml", known_ids=ids, today=date.today())
    report = apply_waivers(report, waivers, today=date.today())
    report["verdict"]              # "pass" when every failure was waived
    report["waivers"]["unused"]    # waivers whose requirement did not fail: candidates to drop
"""

from __future__ import annotations

import copy
import re
import reprlib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from conformance.core import inputs
from conformance.core.display import for_terminal
from conformance.core.errors import UsageError
from conformance.core.verdicts import FAIL, INCOMPLETE, PASS, WAIVED

#: The largest waiver file read; one waiver is a few lines, so this holds thousands.
MAX_WAIVER_BYTES = 256 * 1024
#: The deepest nesting a waiver file may have (it needs three levels).
MAX_DEPTH = 16
#: The most YAML nodes a waiver file may have.
MAX_NODES = 50_000

_ENTRY_KEYS = frozenset({"id", "reason", "expires"})
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SHOWN = 80
_REPR = reprlib.Repr()
_REPR.maxstring = _SHOWN
_REPR.maxother = _SHOWN
_REPR.maxlevel = 2


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader without YAML's timestamps: dates stay text and are checked here."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def load_waivers(path: str | Path, *, known_ids: Collection[str], today: date) -> tuple[Waiver, ...]:
    """Read and validate a waiver file; UsageError, one line, for anything but a small regular UTF-8 file."""
    text = inputs.input_file(path, what="the waiver file", max_bytes=MAX_WAIVER_BYTES)
    return parse_waivers(text, source=str(path), known_ids=known_ids, today=today)


def parse_waivers(text: str, *, source: str, known_ids: Collection[str], today: date) -> tuple[Waiver, ...]:
    """Parse and strictly validate a waiver file's text; ``source`` names the file in error messages."""
    source = for_terminal(source, limit=200)
    if len(text) > MAX_WAIVER_BYTES:
        raise UsageError(f"{source}: more than {MAX_WAIVER_BYTES} characters; a waiver file is much smaller")
    document = _load(text, source=source)
    if not isinstance(document, Mapping) or list(document) != ["waivers"]:
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


def _load(text: str, *, source: str) -> object:
    """The YAML document, after its events were checked: no alias, anchor or tag, bounded depth and size."""
    try:
        _check_events(text, source=source)
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise UsageError(f"{source}: not valid YAML ({_yaml_problem(exc)})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # What a constructor of the safe loader can still raise on odd scalars (a 5000-digit integer).
        raise UsageError(f"{source}: not valid YAML ({for_terminal(str(exc), limit=_SHOWN)})") from None


def _check_events(text: str, *, source: str) -> None:
    # One entry per open collection: the keys seen so far and whether a key comes next, or None in a list.
    open_collections: list[_OpenMapping | None] = []
    nodes = 0
    for event in yaml.parse(text, Loader=_Loader):
        where = _line(event)
        if isinstance(event, yaml.AliasEvent):
            raise UsageError(f"{source}: {where}aliases (*name) are not accepted in a waiver file")
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise UsageError(f"{source}: more than {MAX_NODES} values; a waiver file is much smaller")
            if event.anchor is not None:
                raise UsageError(f"{source}: {where}anchors (&name) are not accepted in a waiver file")
            if _explicit_tag(event):
                raise UsageError(f"{source}: {where}tags (!name) are not accepted in a waiver file")
            parent = open_collections[-1] if open_collections else None
            if parent is not None:
                key = event.value if isinstance(event, yaml.ScalarEvent) else None
                if parent.add(key):
                    # YAML keeps the last of two equal keys; one of the two values would be dropped unseen.
                    raise UsageError(f"{source}: {where}the key {_shown(key)} appears twice in one mapping")
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_collections) >= MAX_DEPTH:
                raise UsageError(f"{source}: {where}nested more than {MAX_DEPTH} levels deep")
            open_collections.append(_OpenMapping() if isinstance(event, yaml.MappingStartEvent) else None)
        elif isinstance(event, yaml.CollectionEndEvent):
            open_collections.pop()


class _OpenMapping:
    """A mapping being read: its keys so far, and whether the next node is a key."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.expects_key = True

    def add(self, key: str | None) -> bool:
        """Note the next node (``key`` when it is a plain value); True when it is a key seen before."""
        is_key = self.expects_key
        self.expects_key = not self.expects_key
        if not is_key or key is None:
            return False
        if key in self.keys:
            return True
        self.keys.add(key)
        return False


def _explicit_tag(event: yaml.NodeEvent) -> bool:
    tag = getattr(event, "tag", None)
    if tag is None or tag == "!":
        return False
    implicit = getattr(event, "implicit", None)
    # A collection's implicit flag is a bool, a scalar's a pair (plain, quoted); a tag the parser filled in
    # itself is implicit.
    return not (implicit is True or (isinstance(implicit, tuple) and any(implicit)))


def _line(event: yaml.Event) -> str:
    mark = event.start_mark
    return "" if mark is None else f"line {mark.line + 1}: "


def _parse_entry(entry: object, *, where: str, known_ids: Collection[str], today: date) -> Waiver:
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where}: expected a mapping with 'id', 'reason' and optionally 'expires'")
    requirement = entry.get("id")
    if not isinstance(requirement, str) or not requirement.strip():
        raise UsageError(f"{where}: 'id' must be a requirement ID such as REQ-NAME")
    requirement = requirement.strip()
    where = f"{where} ({for_terminal(requirement, limit=_SHOWN)})"
    unknown_keys = sorted(
        for_terminal(key, limit=_SHOWN) if isinstance(key, str) else _shown(key)
        for key in entry
        if key not in _ENTRY_KEYS
    )
    if unknown_keys:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown_keys)}")
    if requirement not in known_ids:
        raise UsageError(f"{where}: unknown requirement ID")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise UsageError(f"{where}: a non-empty 'reason' is required")
    if _CONTROL.search(reason):
        # Reasons are printed and written into reports; a control character there is never meant.
        raise UsageError(f"{where}: the 'reason' holds a control character: {_shown(reason)}")
    expires = _parse_expiry(entry.get("expires"), where=where)
    waiver = Waiver(id=requirement, reason=" ".join(reason.split()), expires=expires)
    if waiver.expired(today):
        raise UsageError(f"{where}: expired on {expires}")
    return waiver


def _parse_expiry(value: object, *, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(
                f"{where}: 'expires' {_shown(value.strip())} is not a date of the calendar"
            ) from None
    raise UsageError(f"{where}: 'expires' must be a date written YYYY-MM-DD, got {_shown(value)}")


def _shown(value: object) -> str:
    # reprlib keeps a huge or nested value short; for_terminal escapes what repr leaves (it keeps bidi marks).
    return for_terminal(_REPR.repr(value), limit=2 * _SHOWN)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unreadable"])[0]
    shown = for_terminal(str(problem), limit=_SHOWN)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {shown}"
    return shown


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
        f"waiver for {for_terminal(str(entry['id']))} is unused "
        f"(the requirement's verdict is {for_terminal(str(entry['verdict']))}); consider removing it"
        for entry in unused
    ]
