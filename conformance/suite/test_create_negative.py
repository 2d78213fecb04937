"""Negative creates: bodies the document rules out get its refusal, with its error envelope, never a 5xx.

Every case is read from the contract (limits, types, the refusal per kind); where the document is silent
(null for an optional field, unknown fields) the answer is recorded as information, not judged. Those silent
probes may make a snapshot, so they run after the planned creates (``creates("probe")``); a value the
contract accepts is left to the planned bodies, which carry every class of valid value.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest

from conformance.contract import JSON, Contract
from conformance.rules.checks import Outcome
from conformance.rules.oracle import Volumes, expect, expect_raw, expect_silent
from conformance.target import Target

Verify = Callable[..., Outcome]
WIDE_CHARACTERS = "é中😀"
#: JSON values of every type but the one a field wants; the oracle decides which are wrong for which field.
OTHER_TYPES: list[JSON] = [None, True, 0, 1, 1.5, "", "text", "true", [], ["a"], {}, {"a": "b"}]
REFUSAL_CHECKS = ("RSP-400-SCHEMA", "RSP-STATUS-CODES", "RSP-CONTENT-TYPE", "RSP-NO-5XX")


def _available(volumes: Volumes) -> str:
    if volumes.available_id is None:
        pytest.skip("no available disk configured (--volume-id)")
    return volumes.available_id


def _wide(length: int) -> str:
    return "".join(itertools.islice(itertools.cycle(WIDE_CHARACTERS), length))


def _send(
    contract: Contract, target: Target, volumes: Volumes, verify: Verify, body: JSON, focus: str
) -> Outcome:
    return verify(target.create(body), expect(contract, body, volumes, focus=focus))


def _over_limit(contract: Contract, field: str) -> int:
    limit = contract.field(field).max_length
    if limit is None:
        pytest.skip(f"the contract sets no maximum length for {field}")
    return limit + 1


@pytest.mark.requirement("REQ-SNAPSHOT", *REFUSAL_CHECKS)
@pytest.mark.parametrize(
    "shape",
    ["empty-object", "other-key", "snapshot-null", "snapshot-string", "snapshot-list", "array", "number"],
)
def test_body_without_a_snapshot_object_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, shape: str
) -> None:
    key = evs_contract.snapshot_key
    inner = {"volume_id": _available(evs_volumes)}
    body: JSON = {
        "empty-object": {},
        "other-key": {key + "s": inner},
        "snapshot-null": {key: None},
        "snapshot-string": {key: "volume"},
        "snapshot-list": {key: [inner]},
        "array": [{key: inner}],
        "number": 1,
    }[shape]
    _send(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-SNAPSHOT")


@pytest.mark.requirement("REQ-VOLUME-ID", *REFUSAL_CHECKS)
@pytest.mark.parametrize("value", ["missing", *OTHER_TYPES[:2], 0, ["a"], {}], ids=str)
def test_volume_id_missing_null_or_not_a_string_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, value: JSON
) -> None:
    snapshot: dict[str, JSON] = {"name": "no-volume"} if value == "missing" else {"volume_id": value}
    _send(
        evs_contract,
        evs_target,
        evs_volumes,
        evs_verify,
        {evs_contract.snapshot_key: snapshot},
        "REQ-VOLUME-ID",
    )


@pytest.mark.requirement("REQ-VOLUME-EXISTS", *REFUSAL_CHECKS)
def test_unknown_disk_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    body = {evs_contract.snapshot_key: {"volume_id": evs_volumes.unknown_id}}
    outcome = _send(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-VOLUME-EXISTS")
    assert "REQ-VOLUME-EXISTS" in outcome.checked


@pytest.mark.requirement("REQ-NAME", *REFUSAL_CHECKS)
@pytest.mark.parametrize("kind", ["ascii", "non-ascii", "much-longer"])
def test_name_over_the_limit_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, kind: str
) -> None:
    over = _over_limit(evs_contract, "name")
    name = {"ascii": "n" * over, "non-ascii": _wide(over), "much-longer": "n" * (over * 4)}[kind]
    body = {evs_contract.snapshot_key: {"volume_id": _available(evs_volumes), "name": name}}
    _send(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-NAME")


@pytest.mark.requirement("REQ-DESCRIPTION", *REFUSAL_CHECKS)
@pytest.mark.parametrize("kind", ["ascii", "non-ascii"])
def test_description_over_the_limit_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, kind: str
) -> None:
    over = _over_limit(evs_contract, "description")
    description = "d" * over if kind == "ascii" else _wide(over)
    body = {evs_contract.snapshot_key: {"volume_id": _available(evs_volumes), "description": description}}
    _send(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-DESCRIPTION")


@pytest.mark.parametrize(
    ("field", "requirement"),
    [
        pytest.param("name", "REQ-NAME", marks=pytest.mark.requirement("REQ-NAME")),
        pytest.param("description", "REQ-DESCRIPTION", marks=pytest.mark.requirement("REQ-DESCRIPTION")),
        pytest.param("force", "REQ-FORCE-TYPE", marks=pytest.mark.requirement("REQ-FORCE-TYPE")),
        pytest.param("metadata", "REQ-METADATA", marks=pytest.mark.requirement("REQ-METADATA")),
    ],
)
@pytest.mark.parametrize("value", OTHER_TYPES, ids=repr)
@pytest.mark.requirement(*REFUSAL_CHECKS)
@pytest.mark.creates("probe")
def test_field_of_another_type_gets_the_documented_answer(
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    field: str,
    requirement: str,
    value: JSON,
) -> None:
    body = {evs_contract.snapshot_key: {"volume_id": _available(evs_volumes), field: value}}
    if expect(evs_contract, body, evs_volumes).outcome == "accept":
        pytest.skip(f"{field} = {json.dumps(value)} is valid: the planned bodies carry such values")
    _send(evs_contract, evs_target, evs_volumes, evs_verify, body, requirement)


@pytest.mark.requirement("REQ-METADATA", *REFUSAL_CHECKS)
@pytest.mark.parametrize("value", [1, None, True, ["a"], {"nested": "map"}], ids=repr)
def test_metadata_with_a_non_string_value_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, value: JSON
) -> None:
    metadata = {"good": "value", "bad": value}
    body = {evs_contract.snapshot_key: {"volume_id": _available(evs_volumes), "metadata": metadata}}
    _send(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-METADATA")


@pytest.mark.requirement("REQ-JSON", *REFUSAL_CHECKS)
@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b'{"snapshot": }',
        b"{'snapshot': {}}",
        b'{"snapshot": {"volume_id": "x",}}',
        b"\xff\xfe",
    ],
    ids=["empty", "blank", "open-brace", "missing-value", "single-quotes", "trailing-comma", "not-utf8"],
)
def test_body_that_is_not_json_is_refused(
    evs_contract: Contract, evs_target: Target, evs_verify: Verify, raw: bytes
) -> None:
    evs_verify(evs_target.create(raw=raw), expect_raw(evs_contract, raw))


@pytest.mark.requirement("REQ-JSON", *REFUSAL_CHECKS)
@pytest.mark.parametrize(
    "suffix",
    [b" trailing", b" {}", b"}", b' {"snapshot": {}}'],
    ids=["text", "second-value", "brace", "twice"],
)
def test_valid_body_followed_by_more_text_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, suffix: bytes
) -> None:
    # A lenient parser would create a snapshot from the first value and ignore the rest.
    valid = {evs_contract.snapshot_key: {"volume_id": _available(evs_volumes), "name": "trailing"}}
    raw = json.dumps(valid).encode() + suffix
    evs_verify(evs_target.create(raw=raw), expect_raw(evs_contract, raw))


@pytest.mark.requirement("REQ-JSON", *REFUSAL_CHECKS)
def test_non_json_numbers_are_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    volume_id = json.dumps(_available(evs_volumes))
    raw = b'{"snapshot": {"volume_id": %s, "metadata": {}, "force": NaN}}' % volume_id.encode()
    evs_verify(evs_target.create(raw=raw), expect_raw(evs_contract, raw))


@pytest.mark.requirement("RSP-STATUS-CODES", "RSP-NO-5XX", "RSP-CONTENT-TYPE")
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
@pytest.mark.creates("probe")
def test_json_labelled_otherwise_is_not_a_server_error(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, content_type: str
) -> None:
    body = {evs_contract.snapshot_key: {"volume_id": _available(evs_volumes), "name": "media-type"}}
    silent = expect_silent(
        "RSP-STATUS-CODES", f"the document does not say how a body labelled {content_type} is read"
    )
    evs_verify(evs_target.create(body, content_type=content_type), silent)


@pytest.mark.requirement("REQ-SNAPSHOT", "RSP-NO-5XX")
@pytest.mark.parametrize("where", ["snapshot", "top-level"])
@pytest.mark.creates("probe")
def test_unknown_fields_are_recorded_not_judged(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, where: str
) -> None:
    key = evs_contract.snapshot_key
    snapshot: dict[str, JSON] = {"volume_id": _available(evs_volumes), "name": "unknown-field"}
    body: dict[str, JSON] = {key: snapshot}
    if where == "snapshot":
        snapshot["x_undocumented"] = "1"
    else:
        body["x_undocumented"] = "1"
    outcome = _send(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-SNAPSHOT")
    assert outcome.infos or "REQ-SNAPSHOT" in outcome.checked
