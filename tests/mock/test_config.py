"""MockConfig: every field checked when the config is made, a bad one a UsageError naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.core.errors import UsageError
from conformance.mock import UNLIMITED, MockConfig, VolumeSeed, build_backend
from conformance.mock.limits import Limits

NAN, INF = float("nan"), float("inf")

BAD: list[tuple[dict[str, Any], str]] = [
    ({"settle_seconds": NAN}, "settle time must be a number of seconds from 0"),
    ({"settle_seconds": INF}, "settle time"),
    ({"settle_seconds": -1}, "settle time"),
    ({"settle_seconds": 1e300}, "settle time"),
    ({"settle_seconds": "5"}, "settle time"),
    ({"delete_seconds": -0.5}, "deletion time"),
    ({"delete_seconds": NAN}, "deletion time"),
    ({"time_scale": 0}, "time scale"),
    ({"time_scale": NAN}, "time scale"),
    ({"time_scale": -60}, "time scale"),
    ({"time_scale": 10**12}, "time scale"),
    ({"token_ttl_s": 0}, "token lifetime must be a positive number of seconds"),
    ({"token_ttl_s": INF}, "token lifetime"),
    ({"limits": "aws"}, "unknown limits preset 'aws'"),
    ({"disk_snapshot_limit": -2}, "disk snapshot limit must be from 0"),
    ({"disk_snapshot_limit": 10**9}, "disk snapshot limit"),
    ({"project_snapshot_quota": 2.5}, "project snapshot quota must be a whole number"),
    ({"one_create_per_disk": "yes"}, "one create per disk must be true or false"),
    ({"refuse_delete_while_creating": 1}, "refusing to delete a creating snapshot"),
    ({"max_body_bytes": 0}, "body limit"),
    ({"max_body_bytes": 2**40}, "body limit"),
    ({"port": 70000}, "the port must be a whole number from 0 to 65535"),
    ({"port": -1}, "the port"),
    ({"profile": "aws"}, "unknown profile"),
    ({"project_id": ""}, "the project id must be a non-empty text"),
    ({"project_id": "a/b"}, "the project id"),
    ({"token": ""}, "the token must be a non-empty text"),
    ({"seed": 1.5}, "the seed"),
    ({"seed": True}, "the seed"),
    ({"api_prefix": "v2"}, "the API prefix must start with /"),
    ({"api_prefix": "/v2/"}, "the API prefix"),
    ({"api_prefix": "/v 2"}, "the API prefix"),
    ({"volumes": (VolumeSeed("v", "available", 0),)}, "the size of disk v must be a whole number from 1"),
    ({"volumes": (VolumeSeed("v", "available", 10**9),)}, "the size of disk v"),
    ({"volumes": (VolumeSeed("v", "available", 1), VolumeSeed("v", "error", 1))}, "seeded twice: v"),
    ({"volumes": (VolumeSeed("", "available", 1),)}, "a disk id"),
    ({"users": (("", "pw"),)}, "a user name"),
    ({"users": (("u", ""),)}, "the password of u"),
    ({"quirks": frozenset({1})}, "the quirks must be a set of names"),
]


def _id(fields: dict[str, Any]) -> str:
    ((name, value),) = fields.items()
    return f"{name}={value!r:.24}"


@pytest.mark.parametrize(("fields", "message"), BAD, ids=[_id(f) for f, _ in BAD])
def test_a_bad_field_is_a_usage_error_naming_it(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        MockConfig(**fields)


@pytest.mark.parametrize(("fields", "message"), BAD[:14], ids=[_id(f) for f, _ in BAD[:14]])
def test_a_bad_field_from_json_is_a_usage_error_too(fields: dict[str, Any], message: str) -> None:
    data = MockConfig().to_json() | fields
    with pytest.raises(UsageError, match=message):
        MockConfig.from_json(json.loads(json.dumps(data)))


def test_sane_values_at_the_edges_are_taken() -> None:
    edges = MockConfig(
        settle_seconds=0,
        delete_seconds=7 * 24 * 3600,
        time_scale=1_000_000,
        token_ttl_s=0.001,
        disk_snapshot_limit=0,
        project_snapshot_quota=UNLIMITED,
        port=65535,
        max_body_bytes=1,
    )
    assert edges.limits_in_force() == Limits(disk_snapshot_limit=0)


def test_every_new_field_survives_json() -> None:
    config = MockConfig(
        profile="cinder",
        limits="cinder",
        one_create_per_disk=True,
        disk_snapshot_limit=3,
        project_snapshot_quota=UNLIMITED,
        refuse_delete_while_creating=False,
        settle_seconds=180,
        delete_seconds=20,
        time_scale=60,
        token_ttl_s=600,
    )
    assert MockConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


def test_the_backend_is_built_with_the_limits_and_times_in_force() -> None:
    backend = build_backend(MockConfig(limits="huawei", delete_seconds=5, time_scale=60, token_ttl_s=90))
    assert backend.limits == Limits(
        one_create_per_disk=True, disk_snapshot_limit=7, refuse_delete_while_creating=True
    )
    assert (backend.settle_seconds, backend.delete_seconds, backend.time_scale) == (180, 5, 60)
    assert backend.token_ttl_s == 90


def test_a_malformed_token_or_password_is_not_repeated_in_the_error() -> None:
    for fields in (
        {"token": 4242424242},
        {"users": (("u", 1717171717),)},
        {"users": (("u", "pw-5151515151", "extra"),)},
    ):
        with pytest.raises(UsageError) as refused:
            MockConfig(**fields)
        assert not any(secret in str(refused.value) for secret in ("4242424242", "1717171717", "5151515151"))
