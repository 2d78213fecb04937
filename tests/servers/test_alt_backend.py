"""The alternative server's rules and state, exercised without HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from .alt_backend import Backend, Refusal, Rules, Volume, envelope

PROJECT = "proj"
TOKEN = "tok"
START = datetime(2024, 2, 27, 3, 56, 53, 81642)


class Clock:
    """A settable clock, so that settling is tested without sleeping."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def backend(profile: str, clock: Clock, settle_seconds: float = 5.0) -> Backend:
    return Backend(
        Rules.for_profile(profile),
        project_id=PROJECT,
        tokens={TOKEN: PROJECT},
        volumes=[Volume("disk", "available", 2)],
        settle_seconds=settle_seconds,
        clock=clock,
    )


def call(server: Backend, method: str, tail: str, body: object = None) -> tuple[int, object]:
    data = b"" if body is None else json.dumps(body).encode()
    reply = server.handle(method, f"/{server.rules.prefix}/{PROJECT}/{tail}", TOKEN, data)
    return reply.status, reply.payload


@pytest.mark.parametrize(
    ("profile", "updated_on_create"), [("huawei", "2024-02-27T03:56:53.081642"), ("cinder", None)]
)
def test_snapshot_settles_on_the_clock(profile: str, updated_on_create: str | None) -> None:
    clock = Clock()
    server = backend(profile, clock)
    status, payload = call(server, "POST", "snapshots", {"snapshot": {"volume_id": "disk"}})
    assert status == 202
    assert isinstance(payload, dict)
    created = payload["snapshot"]
    assert (created["created_at"], created["updated_at"]) == ("2024-02-27T03:56:53.081642", updated_on_create)
    clock.now = START + timedelta(seconds=4)
    assert call(server, "GET", f"snapshots/{created['id']}")[1] == {"snapshot": created}
    clock.now = START + timedelta(seconds=6)
    settled = call(server, "GET", f"snapshots/{created['id']}")[1]
    assert settled == {
        "snapshot": {**created, "status": "available", "updated_at": "2024-02-27T03:56:58.081642"}
    }


def test_rules_differ_by_profile() -> None:
    huawei, cinder = Rules.for_profile("huawei"), Rules.for_profile("cinder")
    assert (huawei.prefix, huawei.name_max, huawei.description_max) == ("v2", 64, 85)
    assert (cinder.prefix, cinder.name_max, cinder.description_max) == ("v3", 255, 255)
    assert (huawei.printable_description, cinder.printable_description) == (False, True)
    with pytest.raises(ValueError, match="unknown profile"):
        Rules.for_profile("other")


@pytest.mark.parametrize(
    ("profile", "status", "expected"),
    [
        ("huawei", 400, {"error": {"code": "EVS.9", "message": "m"}}),
        ("huawei", 404, {"error": {"code": "EVS.9", "message": "m"}}),
        ("cinder", 400, {"badRequest": {"code": 400, "message": "m"}}),
        ("cinder", 404, {"itemNotFound": {"code": 404, "message": "m"}}),
        ("cinder", 401, {"error": {"code": 401, "title": "Unauthorized", "message": "m"}}),
        ("cinder", 403, {"forbidden": {"code": 403, "message": "m"}}),
    ],
)
def test_envelopes(profile: str, status: int, expected: dict[str, object]) -> None:
    assert envelope(Rules.for_profile(profile), Refusal(status, "EVS.9", "m")) == expected


def test_wrong_method_names_the_allowed_ones() -> None:
    reply = backend("huawei", Clock()).handle("PUT", f"/v2/{PROJECT}/snapshots/x", TOKEN, b"")
    assert (reply.status, reply.headers) == (405, {"Allow": "GET, DELETE"})
