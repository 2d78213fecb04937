"""What the contract says a given create request must get: accepted, refused (and how), or either.

The rules are applied in the order a server validates: the body's shape, ``volume_id``, the optional fields
per their schemas, then the disk the request names and its state.

Example::

    volumes = Volumes(available_id="vol-1", in_use_id=None, busy_status=None, unknown_id=str(uuid4()),
                      sizes={"vol-1": 10})
    expect(contract, {"snapshot": {"volume_id": "vol-1", "name": "x" * 65}}, volumes).refusal
    # -> "invalid-body", the name being over the documented limit
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

import jsonschema

from conformance.contract import JSON, Contract, FieldRule
from conformance.rules.checks.model import AUTH_REFUSAL, FOREIGN_PROJECT_REFUSAL, Expectation

#: The requirement that governs each field of the snapshot object.
FIELD_REQUIREMENTS: Mapping[str, str] = {
    "volume_id": "REQ-VOLUME-ID",
    "name": "REQ-NAME",
    "description": "REQ-DESCRIPTION",
    "force": "REQ-FORCE-TYPE",
    "metadata": "REQ-METADATA",
}
#: Which rule decides a busy disk, by how ``force`` was given.
FORCE_REQUIREMENTS = {None: "REQ-FORCE-DEFAULT", False: "REQ-FORCE-FALSE", True: "REQ-FORCE-TRUE"}


@dataclass(frozen=True)
class Volumes:
    """What the run knows about the target's disks."""

    available_id: str | None
    in_use_id: str | None
    busy_status: str | None
    unknown_id: str
    sizes: Mapping[str, int]

    @property
    def known(self) -> frozenset[str]:
        return frozenset(v for v in (self.available_id, self.in_use_id, *self.sizes) if v is not None)


@functools.lru_cache(maxsize=64)
def _field_validator(contract: Contract, name: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(dict(contract.field(name).schema))


def _refuse(requirement: str, kind: str | None, reason: str) -> Expectation:
    return Expectation("refuse", requirement, kind, reason)


def expect(contract: Contract, body: JSON, volumes: Volumes, *, focus: str | None = None) -> Expectation:
    """The documented outcome of POSTing ``body`` (already parsed JSON) for the disks in ``volumes``."""
    key = contract.snapshot_key
    if not isinstance(body, Mapping) or not isinstance(body.get(key), Mapping):
        got = "no body object" if not isinstance(body, Mapping) else f"{key} = {json.dumps(body.get(key))}"
        source = contract.request_schema.get("properties", {}).get(key, {}).get("x-source", "")
        return _refuse("REQ-SNAPSHOT", "invalid-body", f"{got}; a {key} object is required ({source})")
    snapshot: Mapping[str, JSON] = body[key]

    fields = _field_verdicts(contract, snapshot, focus)
    refusal = next((e for e in fields if e.outcome == "refuse"), None)
    silent = next((e for e in fields if e.outcome == "either"), None)
    if refusal is not None:
        return refusal if silent is None else _widened(refusal, silent)
    unknown = sorted(set(body) - {key}) + sorted(set(snapshot) - {r.name for r in contract.fields})
    if unknown and silent is None:
        silent = Expectation(
            "either", "REQ-SNAPSHOT", None, f"the document does not mention fields {unknown}"
        )

    decided = _volume_verdict(contract, snapshot, volumes, focus)
    if decided.outcome == "refuse" and silent is not None:
        return _widened(decided, silent)
    if silent is not None:
        return silent
    return decided


def _widened(refusal: Expectation, silent: Expectation) -> Expectation:
    """A refusal whose status may also be the 4xx a server gives for the silent part of the body."""
    if refusal.refusal is None:
        return refusal
    return _refuse(refusal.requirement, None, f"{refusal.reason}; also {silent.reason}")


def _field_verdicts(contract: Contract, snapshot: Mapping[str, JSON], focus: str | None) -> list[Expectation]:
    """Per field: refuse (breaks its schema), either (null where the document is silent); focus first."""
    found: list[Expectation] = []
    for rule in contract.fields:
        requirement = FIELD_REQUIREMENTS.get(rule.name, "REQ-SNAPSHOT")
        if rule.name not in snapshot:
            if rule.required:
                found.append(
                    _refuse(requirement, "invalid-body", f"{rule.name} is mandatory ({rule.source})")
                )
            continue
        value = snapshot[rule.name]
        if value is None and not rule.nullable:
            if rule.name == "volume_id":
                continue  # decided with the disk, where the profile says how a null disk is refused
            found.append(_null_verdict(contract, rule, requirement))
        elif value is not None and not _field_validator(contract, rule.name).is_valid(value):
            found.append(_refuse(requirement, "invalid-body", _schema_reason(rule, value)))
        elif isinstance(value, str) and rule.unprintable(value):
            found.append(_unprintable_verdict(rule, requirement, value))
    found.sort(key=lambda e: (e.requirement != focus, e.outcome != "refuse"))
    return found


def _null_verdict(contract: Contract, rule: FieldRule, requirement: str) -> Expectation:
    if contract.semantics.get("null-for-optional") == "per-schema":
        return _refuse(requirement, "invalid-body", f"{rule.name} may not be null ({rule.source})")
    return Expectation(
        "either", requirement, None, f"the document does not say whether {rule.name} may be null"
    )


def _unprintable_verdict(rule: FieldRule, requirement: str, value: str) -> Expectation:
    # The pattern lets through some characters the printable rule refuses (format, unassigned): a pattern
    # cannot name Unicode categories, so the contract leaves them undecided rather than half-stated.
    shown = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(rule.unprintable(value)))
    return Expectation(
        "either", requirement, None, f"{rule.name} holds {shown}, not printable ({rule.source})"
    )


def _schema_reason(rule: FieldRule, value: JSON) -> str:
    text = json.dumps(value, ensure_ascii=False)
    shown = text if len(text) <= 60 else text[:59] + "…"
    limit = f", at most {rule.max_length} characters" if rule.max_length is not None else ""
    return f"{rule.name} = {shown} is not {'/'.join(rule.types) or 'valid'}{limit} ({rule.source})"


def _volume_verdict(
    contract: Contract, snapshot: Mapping[str, JSON], volumes: Volumes, focus: str | None
) -> Expectation:
    """The verdict decided by the disk ``volume_id`` names and its state, once the body's shape is fine."""
    volume_id = snapshot.get("volume_id")
    source = contract.field("volume_id").source
    if volume_id is None:
        return _refuse("REQ-VOLUME-ID", "null-volume-id", f"volume_id is null ({source})")
    if volume_id == volumes.unknown_id:
        return _refuse("REQ-VOLUME-EXISTS", "unknown-volume", f"volume_id names no disk ({source})")
    if volume_id not in volumes.known:
        # Whether a malformed ID is an invalid body or an unknown disk, the document does not say.
        return _refuse(
            "REQ-VOLUME-EXISTS", None, f"volume_id {json.dumps(volume_id)} names no known disk ({source})"
        )
    busy = volume_id == volumes.in_use_id and (
        volumes.busy_status is None or volumes.busy_status in contract.busy_volume_statuses
    )
    if busy:
        return _busy_verdict(contract, snapshot)
    return Expectation("accept", focus or "OP-ACCEPT", None, "a valid body for an available disk")


def _busy_verdict(contract: Contract, snapshot: Mapping[str, JSON]) -> Expectation:
    rule = contract.field("force")
    given = snapshot.get(rule.name)
    meanings = rule.boolean_like_strings
    if isinstance(given, str) and given in meanings:
        given = meanings[given]
    elif rule.name in snapshot and not isinstance(given, bool):
        # A silent null: the document does not say what it means.
        return Expectation(
            "either", "REQ-FORCE-TYPE", None, f"{rule.name} = {json.dumps(given)} on a busy disk"
        )
    value = rule.default if given is None else given
    requirement = FORCE_REQUIREMENTS[None if rule.name not in snapshot else bool(given)]
    if value is True:
        return Expectation(
            "accept", requirement, None, f"{rule.name} is true for a busy disk ({rule.source})"
        )
    return _refuse(
        requirement, "volume-busy", f"{rule.name} is {json.dumps(value)} for a busy disk ({rule.source})"
    )


def expect_raw(
    contract: Contract, raw: bytes, volumes: Volumes | None = None, *, focus: str | None = None
) -> Expectation:
    """The documented outcome of a body sent as bytes.

    A body that is not JSON (malformed or empty) is refused as an invalid body. JSON whose objects repeat a
    key is judged on each way a parser reads it (the first or the last of the repeated keys), which needs
    ``volumes``: where every reading is refused the body is, else the document leaves it open. Valid JSON
    without repeated keys raises ValueError: use ``expect`` with the parsed value.
    """
    try:
        first, last = _readings(raw)
    except (UnicodeDecodeError, ValueError):
        what = "an empty body" if not raw.strip() else "a body that is not JSON"
        return _refuse(
            "REQ-JSON",
            "invalid-body",
            f"{what} ({contract.response_source(contract.refusal('invalid-body').status)})",
        )
    if first is None:
        raise ValueError("the body is valid JSON: use expect() with the parsed value")
    if volumes is None:
        raise ValueError("a body with repeated keys is judged per reading: give the disks (volumes)")
    return _repeated_keys_verdict(
        expect(contract, first, volumes, focus=focus), expect(contract, last, volumes, focus=focus), focus
    )


def _readings(raw: bytes) -> tuple[JSON, JSON]:
    """The body read keeping the first of each repeated key, and keeping the last (the first None if none).

    Raises ValueError (or UnicodeDecodeError) when the body is not JSON.
    """
    repeated = False

    def first_wins(pairs: list[tuple[str, JSON]]) -> dict[str, JSON]:
        nonlocal repeated
        kept: dict[str, JSON] = {}
        for key, value in pairs:
            if key in kept:
                repeated = True
            kept.setdefault(key, value)
        return kept

    text = raw.decode("utf-8")
    first = json.loads(text, parse_constant=_not_json, object_pairs_hook=first_wins)
    if not repeated:
        return None, first
    return first, json.loads(text, parse_constant=_not_json)


def _repeated_keys_verdict(first: Expectation, last: Expectation, focus: str | None) -> Expectation:
    """A body with a repeated key: refused when every reading is (by any 4xx), else either.

    Charged to ``focus``; else a refusal to the first reading's rule, a silence to the JSON rule.
    """
    if first.outcome == "refuse" and last.outcome == "refuse":
        # A parser that refuses repeated keys outright refuses it too, with whatever status it gives that.
        reason = f"either reading is refused: {first.reason}; {last.reason}"
        return _refuse(focus or first.requirement, None, reason)
    return Expectation(
        "either",
        focus or "REQ-JSON",
        None,
        "the document does not say which of repeated keys counts, and parsers differ (RFC 8259 section 4)",
    )


def _not_json(constant: str) -> JSON:
    # Python's parser takes NaN and Infinity; JSON (RFC 8259) has no such values.
    raise ValueError(f"{constant} is not JSON")


def expect_auth_refusal(requirement: str) -> Expectation:
    """The outcome of a create sent without valid credentials: any refusal, never success."""
    return _refuse(requirement, AUTH_REFUSAL, "refused for authentication (Table 2 X-Auth-Token)")


def expect_foreign_project_refusal() -> Expectation:
    """The outcome of a valid token used on a project it was not issued for: refused before any processing."""
    return _refuse(
        "AUTH-INVALID",
        FOREIGN_PROJECT_REFUSAL,
        "the token was not issued for the project in the URL (Table 1 project_id, Table 2 X-Auth-Token)",
    )


def expect_silent(requirement: str, reason: str) -> Expectation:
    """An outcome the document does not decide: accepting or refusing with a 4xx are both conformant."""
    return Expectation("either", requirement, None, reason)
