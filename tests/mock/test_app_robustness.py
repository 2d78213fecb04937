"""The clean mock is a good citizen: no 5xx for any input, 413 without reading a huge body, no lost work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.mock import RunningMock
from tests.mock.conftest import Api

ROBUST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FRAMING = {"content-length", "transfer-encoding", "host", "connection", "expect", "upgrade", "te"}
header_names = st.text(_TOKEN_CHARS, min_size=1, max_size=20).filter(lambda n: n.lower() not in _FRAMING)
# Field values as RFC 9110 allows them: visible ASCII, obs-text, inner spaces and tabs.
header_values = st.binary(max_size=60).map(
    lambda raw: bytes(b for b in raw if b in (0x09, 0x20) or 0x21 <= b <= 0x7E or b >= 0x80).strip(b" \t")
)


def assert_good_citizen(response: httpx.Response) -> None:
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, response.text
    if response.content:
        assert response.headers["content-type"] == "application/json"
        response.json()


def _api(mock: RunningMock, client: httpx.Client) -> Api:
    return Api(mock, client)


@ROBUST
@given(raw=st.binary(max_size=512))
def test_arbitrary_bytes_never_get_a_5xx(mock: RunningMock, client: httpx.Client, raw: bytes) -> None:
    assert_good_citizen(_api(mock, client).post(raw))


@ROBUST
@given(value=json_values)
def test_arbitrary_json_bodies_never_get_a_5xx(mock: RunningMock, client: httpx.Client, value: Any) -> None:
    assert_good_citizen(_api(mock, client).post(json=value))


@ROBUST
@given(
    fields=st.dictionaries(
        st.sampled_from(["volume_id", "name", "description", "force", "metadata"]), json_values
    )
)
def test_arbitrary_field_values_never_get_a_5xx(
    mock: RunningMock, client: httpx.Client, fields: dict[str, Any]
) -> None:
    api = _api(mock, client)
    assert_good_citizen(api.post(json={api.key: fields}))
    assert_good_citizen(api.create(**fields))


@ROBUST
@given(
    headers=st.lists(st.tuples(header_names, header_values), max_size=5),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    path=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc",), exclude_characters="?#"), max_size=30
    ),
    token=st.none() | header_values,
)
def test_odd_headers_methods_and_paths_never_get_a_5xx(
    mock: RunningMock,
    client: httpx.Client,
    headers: list[tuple[str, bytes]],
    method: str,
    path: str,
    token: bytes | None,
) -> None:
    api = _api(mock, client)
    sent: list[tuple[str, bytes]] = list(headers)
    if token is not None:
        sent.append((api.contract.token_header, token))
    for url in (f"/snapshots/{path}", f"{mock.base_url}/{path}", "/snapshots"):
        body = json.dumps(api.body()).encode() if method == "POST" else None
        assert_good_citizen(client.request(method, url, headers=sent, content=body))


def test_oversize_streamed_body_is_refused_without_being_read(
    mock: RunningMock, client: httpx.Client
) -> None:
    api = _api(mock, client)
    sent = 0
    huge = 1 << 30

    def endless() -> Iterator[bytes]:
        nonlocal sent
        chunk = b" " * 65536
        while sent < huge:
            sent += len(chunk)
            yield chunk

    with httpx.Client(timeout=10) as fresh:
        response = fresh.post(f"{mock.api_url}/snapshots", content=endless(), headers=api.headers())
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json()
    assert sent < huge // 16
    assert_good_citizen(api.create())


def test_hundreds_of_concurrent_creates_give_exactly_that_many_snapshots(mock: RunningMock) -> None:
    count, connections = 300, 64
    backend = mock.backend
    assert backend is not None
    backend.reset()
    contract = backend.contract
    headers = {contract.token_header: mock.token}
    body = {contract.snapshot_key: {"volume_id": mock.available_volume_id}}
    limits = httpx.Limits(max_connections=connections)
    with httpx.Client(base_url=mock.api_url, timeout=30, limits=limits) as client:
        with ThreadPoolExecutor(max_workers=connections) as pool:
            responses = list(
                pool.map(lambda _: client.post("/snapshots", json=body, headers=headers), range(count))
            )
        listed = client.get("/snapshots", headers=headers).json()
    assert {r.status_code for r in responses} == {contract.accepted_status}
    ids = {r.json()[contract.summary_key]["id"] for r in responses}
    assert len(ids) == count
    assert sorted(s["id"] for s in listed[f"{contract.summary_key}s"]) == sorted(ids)
    backend.reset()
