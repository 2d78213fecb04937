"""Fixtures for the checks' tests: both contracts, and exchanges built directly (no HTTP)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conformance.contract import Contract, load_contract
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.rules.checks import CheckContext, Expectation

VOLUME = "5aa119a8-d25b-45a7-8d1b-88e127885635"
URL = "http://127.0.0.1:1/v2/p/snapshots"


@pytest.fixture(scope="session")
def huawei() -> Contract:
    return load_contract("huawei")


@pytest.fixture(scope="session")
def cinder() -> Contract:
    return load_contract("cinder")


def summary(**changes: Any) -> dict[str, Any]:
    """A SnapshotSummary that honours the huawei contract, with ``changes`` applied."""
    base = {
        "status": "creating",
        "description": "Daily backup",
        "created_at": "2013-02-25T03:56:53.081642",
        "metadata": {"k": "v"},
        "volume_id": VOLUME,
        "size": 10,
        "id": "ffa9bc5e-1172-4021-acaf-cdcd78a9584d",
        "name": "snap-001",
        "updated_at": None,
    }
    base.update(changes)
    return base


def sent_snapshot(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"volume_id": VOLUME, "name": "snap-001", "description": "Daily backup"}
    base["metadata"] = {"k": "v"}
    base.update(changes)
    return base


def exchange(
    status: int,
    body: Any = None,
    *,
    sent: Any = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
    error: str | None = None,
) -> Exchange:
    """A POST exchange whose response is ``body`` (JSON-encoded unless bytes) with ``status``."""
    payload = raw if raw is not None else json.dumps(sent).encode()
    request = SentRequest("POST", URL, {"X-Auth-Token": "***"}, payload, sent, raw is None)
    if error is not None:
        return Exchange(request, None, error)
    data = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    headers = {"content-type": content_type} if data else {}
    return Exchange(request, Received(status, headers, data), None)


@pytest.fixture
def context(huawei: Contract) -> Callable[..., CheckContext]:
    def make(
        expectation: Expectation | None = None,
        *,
        contract: Contract | None = None,
        volume_size: int | None = 10,
    ) -> CheckContext:
        return CheckContext(contract or huawei, expectation, volume_size, set())

    return make
