"""Near misses: bodies one change away from the smallest body the target accepts, each charged to that change.

The smallest accepted body is ``{snapshot: {volume_id: <available disk>}}``. Each case changes exactly one
thing of it (or of it with one optional field added): a field removed, retyped, set to null or moved to
another level (out of its wrapper, into a nested wrapper, under another key, inside an array), a key
repeated, the wrapper renamed. A server that reads a body's shape loosely (the right fields in the wrong
structure) accepts some of them, where bodies wrong in obvious ways would not tell it apart.

Every case but the repeated keys is refused in every profile, so on a conformant target none creates a
snapshot; the oracle says how each is refused and charges it to the requirement of what changed. Repeated
keys are left open by the document (which of them counts depends on the parser), and each of those cases
is accepted by a parser keeping one of the copies: three cases, at most two creates on any target. An
optional field moved out of its wrapper is an unknown field, on which the document is silent: such cases
could only spend creates and are not made. An optional field set to null or to a value of another type is
``test_create_negative``'s (the document leaves some of those open per profile).

Example::

    case = near_miss(contract, "vol-1", "volume_id-at-top-level")
    case.body      # {"snapshot": {}, "volume_id": "vol-1"}
    expected(contract, case, volumes).requirement   # "REQ-VOLUME-ID"
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from conformance.contract import JSON, Contract, FieldRule
from conformance.rules.checks.model import Expectation
from conformance.rules.oracle import FIELD_REQUIREMENTS, Volumes, expect, expect_raw

#: The field the document makes mandatory, which every accepted body holds.
REQUIRED_FIELD = "volume_id"
#: The optional fields, each of which a near miss wraps in another structure.
OPTIONAL_FIELDS = tuple(f for f in FIELD_REQUIREMENTS if f != REQUIRED_FIELD)
#: A text every optional string field accepts, and a key a map field accepts in every profile.
_TEXT = "near-miss"
_MAP_KEY = "near"


@dataclass(frozen=True)
class NearMiss:
    """One case: its name, the requirement it is charged to, what changed, and the body (JSON or bytes)."""

    name: str
    focus: str
    change: str
    body: JSON = None
    #: The body as bytes, for what a JSON value cannot hold (a repeated key); None to send ``body``.
    raw: bytes | None = None


Build = Callable[[Contract, str], JSON]


@dataclass(frozen=True)
class _Change:
    focus: str
    what: str
    build: Build
    #: A conformant target may accept the case (the document is silent on it).
    may_create: bool = False


def _inner(volume_id: str) -> dict[str, JSON]:
    return {REQUIRED_FIELD: volume_id}


def _misspelt(key: str) -> str:
    """The key with its last two letters swapped (``snapshto``)."""
    return key[:-2] + key[-1] + key[-2]


def _encoded(value: JSON) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _object(pairs: list[tuple[str, bytes]]) -> bytes:
    """A JSON object of the given names and encoded values, in order, repeated names included."""
    return b"{" + b", ".join(_encoded(name) + b": " + value for name, value in pairs) + b"}"


def _twice(key: str, first: JSON, second: JSON) -> bytes:
    return _object([(key, _encoded(first)), (key, _encoded(second))])


class _Raw:
    """A body that only bytes can say (a JSON value would fold its repeated keys into one)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


_WRAPPER = "REQ-SNAPSHOT"
_VOLUME_ID = FIELD_REQUIREMENTS[REQUIRED_FIELD]

_WRAPPER_CHANGES: Mapping[str, _Change] = {
    "wrapper-missing": _Change(
        _WRAPPER, "the snapshot's fields at the top level, with no wrapper", lambda c, v: _inner(v)
    ),
    "wrapper-capitalised": _Change(
        _WRAPPER, "the wrapper key capitalised", lambda c, v: {c.snapshot_key.capitalize(): _inner(v)}
    ),
    "wrapper-upper-case": _Change(
        _WRAPPER, "the wrapper key in capitals", lambda c, v: {c.snapshot_key.upper(): _inner(v)}
    ),
    "wrapper-plural": _Change(
        _WRAPPER, "the wrapper key in the plural", lambda c, v: {c.snapshot_key + "s": _inner(v)}
    ),
    "wrapper-misspelt": _Change(
        _WRAPPER, "the wrapper key misspelt", lambda c, v: {_misspelt(c.snapshot_key): _inner(v)}
    ),
    "wrapper-null": _Change(_WRAPPER, "the wrapper null", lambda c, v: {c.snapshot_key: None}),
    "wrapper-as-text": _Change(
        _WRAPPER,
        "the snapshot object written as a JSON string",
        lambda c, v: {c.snapshot_key: json.dumps(_inner(v))},
    ),
    "wrapper-in-array": _Change(
        _WRAPPER, "the snapshot object inside an array", lambda c, v: {c.snapshot_key: [_inner(v)]}
    ),
    "wrapper-in-another-wrapper": _Change(
        _WRAPPER,
        "the whole body wrapped once more, under another key",
        lambda c, v: {"request": {c.snapshot_key: _inner(v)}},
    ),
    "wrapper-repeated": _Change(
        _WRAPPER,
        "the wrapper key twice, with the same snapshot object",
        lambda c, v: _Raw(_twice(c.snapshot_key, _inner(v), _inner(v))),
        may_create=True,
    ),
}

_REQUIRED_CHANGES: Mapping[str, _Change] = {
    "volume_id-removed": _Change(_VOLUME_ID, "volume_id left out", lambda c, v: {c.snapshot_key: {}}),
    "volume_id-null": _Change(
        _VOLUME_ID, "volume_id null", lambda c, v: {c.snapshot_key: {REQUIRED_FIELD: None}}
    ),
    "volume_id-in-array": _Change(
        _VOLUME_ID, "volume_id inside an array", lambda c, v: {c.snapshot_key: {REQUIRED_FIELD: [v]}}
    ),
    "volume_id-in-object": _Change(
        _VOLUME_ID,
        "volume_id inside an object",
        lambda c, v: {c.snapshot_key: {REQUIRED_FIELD: {"id": v}}},
    ),
    "volume_id-at-top-level": _Change(
        _VOLUME_ID,
        "volume_id beside the wrapper instead of in it",
        lambda c, v: {c.snapshot_key: {}, REQUIRED_FIELD: v},
    ),
    "volume_id-in-nested-wrapper": _Change(
        _VOLUME_ID,
        "volume_id one wrapper deeper",
        lambda c, v: {c.snapshot_key: {c.snapshot_key: _inner(v)}},
    ),
    "volume_id-under-another-key": _Change(
        _VOLUME_ID,
        "the disk given as a volume object with an id",
        lambda c, v: {c.snapshot_key: {"volume": {"id": v}}},
    ),
    "volume_id-camel-case": _Change(
        _VOLUME_ID, "the key volumeId instead of volume_id", lambda c, v: {c.snapshot_key: {"volumeId": v}}
    ),
    "volume_id-padded": _Change(
        "REQ-VOLUME-EXISTS",
        "the disk ID with a space on each side",
        lambda c, v: {c.snapshot_key: {REQUIRED_FIELD: f" {v} "}},
    ),
    "volume_id-repeated-invalid-last": _Change(
        _VOLUME_ID,
        "volume_id twice, the second inside an array",
        lambda c, v: _Raw(_object([(c.snapshot_key, _twice(REQUIRED_FIELD, v, [v]))])),
        may_create=True,
    ),
    "volume_id-repeated-invalid-first": _Change(
        _VOLUME_ID,
        "volume_id twice, the first inside an array",
        lambda c, v: _Raw(_object([(c.snapshot_key, _twice(REQUIRED_FIELD, [v], v))])),
        may_create=True,
    ),
}


def _accepted_value(rule: FieldRule) -> JSON:
    """A value the optional field takes in every profile: its default, a short text, or a one-pair map."""
    if "boolean" in rule.types:
        return bool(rule.default)
    if "object" in rule.types:
        return {_MAP_KEY: _TEXT}
    return _TEXT


def _optional_change(field: str, shape: str) -> _Change:
    def build(contract: Contract, volume_id: str) -> JSON:
        value = _accepted_value(contract.field(field))
        wrapped = [value] if shape == "array" else {"value": value}
        return {contract.snapshot_key: {REQUIRED_FIELD: volume_id, field: wrapped}}

    what = "inside an array" if shape == "array" else "inside an object"
    return _Change(FIELD_REQUIREMENTS[field], f"{field}, with a value it takes, {what}", build)


_OPTIONAL_CHANGES: Mapping[str, _Change] = {
    f"{field}-in-{shape}": _optional_change(field, shape)
    for field in OPTIONAL_FIELDS
    for shape in ("array", "object")
}

_CHANGES: Mapping[str, _Change] = {**_WRAPPER_CHANGES, **_REQUIRED_CHANGES, **_OPTIONAL_CHANGES}
#: Every case by name, with the requirement it is charged to.
CASES: Mapping[str, str] = {name: change.focus for name, change in _CHANGES.items()}
#: The cases a conformant target may accept (a key given twice, on which the document is silent): each may
#: make a snapshot, so a run with a create budget sends them after the planned creates.
MAY_CREATE: frozenset[str] = frozenset(name for name in CASES if _CHANGES[name].may_create)


def near_miss(contract: Contract, volume_id: str, name: str) -> NearMiss:
    """The case ``name`` of ``CASES`` for an available disk; KeyError for an unknown name.

    Raises ValueError for a contract whose mandatory field is not the one the cases are built around.
    """
    change = _CHANGES[name]
    if not contract.field(REQUIRED_FIELD).required:
        raise ValueError(
            f"the contract does not make {REQUIRED_FIELD} mandatory: the near misses do not apply"
        )
    built = change.build(contract, volume_id)
    if isinstance(built, _Raw):
        return NearMiss(name, change.focus, change.what, raw=built.data)
    return NearMiss(name, change.focus, change.what, body=built)


def expected(contract: Contract, case: NearMiss, volumes: Volumes) -> Expectation:
    """What the document says the case must get, charged to the case's focus where it decides."""
    if case.raw is not None:
        return expect_raw(contract, case.raw, volumes, focus=case.focus)
    return expect(contract, case.body, volumes, focus=case.focus)
