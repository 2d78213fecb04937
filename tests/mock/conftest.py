"""Shared fixtures: one mock server per profile per module, and a small client that speaks to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance.contract import PROFILES, Contract
from conformance.mock import Limits, MockConfig, RunningMock, SnapshotBackend, serve_in_thread

_UNSET: Any = object()


@dataclass
class Api:
    """A client of one running mock, with the project's token unless told otherwise."""

    mock: RunningMock
    client: httpx.Client

    @property
    def backend(self) -> SnapshotBackend:
        assert self.mock.backend is not None
        return self.mock.backend

    @property
    def contract(self) -> Contract:
        return self.backend.contract

    @property
    def key(self) -> str:
        return self.contract.snapshot_key

    def invalid(self) -> int:
        return self.contract.refusal("invalid-body").status

    def body(self, **fields: Any) -> dict[str, Any]:
        return {self.key: {"volume_id": self.mock.available_volume_id, **fields}}

    def headers(self, token: str | None = _UNSET, content_type: str | None = None) -> dict[str, str]:
        headers = {}
        token = self.mock.token if token is _UNSET else token
        if token is not None:
            headers[self.contract.token_header] = token
        if content_type is not None:
            headers["Content-Type"] = content_type
        return headers

    def create(self, *, token: str | None = _UNSET, **fields: Any) -> httpx.Response:
        """POST a create body for the available disk (fields override and extend it)."""
        return self.client.post("/snapshots", json=self.body(**fields), headers=self.headers(token))

    def post(
        self, content: bytes | None = None, *, json: Any = _UNSET, token: str | None = _UNSET
    ) -> httpx.Response:
        if json is not _UNSET:
            return self.client.post("/snapshots", json=json, headers=self.headers(token))
        return self.client.post("/snapshots", content=content, headers=self.headers(token))

    def get(self, path: str, *, token: str | None = _UNSET) -> httpx.Response:
        return self.client.get(path, headers=self.headers(token))

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(path, headers=self.headers())

    def accepted(self, response: httpx.Response) -> dict[str, Any]:
        """The snapshot of a create that must have been accepted."""
        assert response.status_code == self.contract.accepted_status, response.text
        snapshot: dict[str, Any] = response.json()[self.contract.summary_key]
        return snapshot


@pytest.fixture(scope="module", params=PROFILES)
def mock(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    with serve_in_thread(MockConfig(profile=request.param)) as running:
        yield running


@pytest.fixture(scope="module")
def client(mock: RunningMock) -> Iterator[httpx.Client]:
    # Building a client costs a TLS context; one per module keeps the tests quick on a busy machine.
    with httpx.Client(base_url=mock.api_url, timeout=10) as shared:
        yield shared


@pytest.fixture
def api(mock: RunningMock, client: httpx.Client) -> Iterator[Api]:
    """A client of the module's mock, which starts clean and is put back clean afterwards."""
    backend = mock.backend
    assert backend is not None
    yield Api(mock, client)
    backend.set_quirks(())
    backend.settle_seconds = 0.0
    backend.delete_seconds = None
    backend.time_scale = 1.0
    backend.limits = Limits()
    backend.reset()
    for volume in mock.config.volumes:
        backend.set_volume_status(mock.project_id, volume.id, volume.status)
