"""Starting the mock: in a thread, in a child process, from frozen settings, with clear errors."""

from __future__ import annotations

import socket
from http import HTTPStatus

import httpx
import pytest

from conformance.core.errors import UsageError
from conformance.mock import (
    MockConfig,
    RunningMock,
    VolumeSeed,
    build_backend,
    serve_in_subprocess,
    serve_in_thread,
)


def test_default_config_is_deterministic_and_seeds_one_available_and_one_in_use_disk() -> None:
    config = MockConfig()
    assert config == MockConfig()
    assert len(config.project_id) == 32
    assert int(config.project_id, 16) >= 0
    assert sorted(v.status for v in config.volumes) == ["available", "in-use"]
    assert config.users


def test_config_survives_json() -> None:
    config = MockConfig(
        profile="cinder", quirks=frozenset({"size-zero"}), volumes=(VolumeSeed("v", "error", 3),)
    )
    assert MockConfig.from_json(config.to_json()) == config


def test_serve_in_thread_answers_and_exposes_its_backend() -> None:
    with serve_in_thread(MockConfig(seed=5)) as mock:
        assert mock.base_url.startswith("http://127.0.0.1:")
        assert mock.api_url == f"{mock.base_url}/v2/{mock.project_id}"
        assert mock.backend is not None
        response = httpx.post(
            f"{mock.api_url}/snapshots",
            headers={"X-Auth-Token": mock.token},
            json={"snapshot": {"volume_id": mock.available_volume_id}},
        )
        assert response.status_code == mock.backend.contract.accepted_status
        assert [s["id"] for s in mock.backend.list_snapshots(mock.project_id)] == [
            response.json()["snapshot"]["id"]
        ]
    with pytest.raises(httpx.ConnectError):
        httpx.get(mock.base_url)


def test_api_prefix_can_be_overridden() -> None:
    with serve_in_thread(MockConfig(api_prefix="/evs/v2")) as mock:
        assert mock.api_url.endswith(f"/evs/v2/{mock.project_id}")
        response = httpx.get(f"{mock.api_url}/snapshots", headers={"X-Auth-Token": mock.token})
        assert response.status_code == HTTPStatus.OK


def test_serve_in_subprocess_prints_its_address_and_stops() -> None:
    with serve_in_subprocess(MockConfig(profile="cinder")) as mock:
        assert mock.backend is None
        response = httpx.get(
            f"{mock.api_url}/volumes/{mock.in_use_volume_id}", headers={"X-Auth-Token": mock.token}
        )
        assert response.json()["volume"]["status"] == "in-use"
    with pytest.raises(httpx.ConnectError):
        httpx.get(mock.base_url)


def test_bad_settings_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown quirk nope"):
        build_backend(MockConfig(quirks=frozenset({"nope"})))
    with pytest.raises(UsageError, match="unknown profile"):
        build_backend(MockConfig(profile="aws"))
    with pytest.raises(UsageError, match="disk status"):
        build_backend(MockConfig(volumes=(VolumeSeed("v", "lost", 1),)))
    lonely = RunningMock("http://127.0.0.1:1", MockConfig(volumes=(VolumeSeed("v", "available", 1),)), "/v2")
    with pytest.raises(UsageError, match="no in-use disk"):
        _ = lonely.in_use_volume_id


def test_a_taken_port_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1 port {port}"),
            serve_in_thread(MockConfig(port=port)),
        ):
            pass
