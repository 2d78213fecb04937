"""Seeding a Cinder API without scheduler or volume service: quotas lifted, an available and an in-use disk.

Volumes created through the API stay ``creating`` with no host; the host column is set in SQLite directly
and the status through the admin action ``os-reset_status``, which is what a volume service would have done.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAKE_HOST = "fakehost@fakebackend#fakepool"
# Attachments (the new attach API) exist from this microversion on.
ATTACHMENT_MICROVERSION = "volume 3.27"
UNLIMITED = -1


class SeedError(Exception):
    """Cinder did not take the seed data as expected; the message holds the request and the answer."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


@dataclass(frozen=True)
class CinderClient:
    """A minimal JSON client for one project of a Cinder v3 API."""

    base_url: str
    project_id: str
    token: str
    timeout_s: float = 30.0

    def call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, microversion: str | None = None
    ) -> Answer:
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if microversion is not None:
            headers["OpenStack-API-Version"] = microversion
        url = f"{self.base_url}/v3/{self.project_id}{path}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return Answer(response.status, _json_or_none(response.read()))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, _json_or_none(exc.read()))

    def expect(
        self,
        status: int,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        microversion: str | None = None,
    ) -> Any:
        answer = self.call(method, path, body, microversion)
        if answer.status != status:
            raise SeedError(f"{method} {path} answered {answer.status} (wanted {status}): {answer.body}")
        return answer.body


@dataclass(frozen=True)
class SeededVolumes:
    available_id: str
    in_use_id: str


def seed(client: CinderClient, database: Path, size_gib: int = 1) -> SeededVolumes:
    """Lift the quotas and create one available and one in-use volume, each checked by reading it back."""
    project = client.project_id
    quota = {"snapshots": UNLIMITED, "volumes": UNLIMITED, "gigabytes": UNLIMITED}
    client.expect(200, "PUT", f"/os-quota-sets/{project}", {"quota_set": quota})

    available = _hosted_volume(client, database, "evs-audit-available", size_gib)
    _reset(client, available, {"status": "available"})

    in_use = _hosted_volume(client, database, "evs-audit-in-use", size_gib)
    _reset(client, in_use, {"status": "available"})
    attachment = {"attachment": {"volume_uuid": in_use, "instance_uuid": str(uuid.uuid4())}}
    client.expect(200, "POST", "/attachments", attachment, microversion=ATTACHMENT_MICROVERSION)
    _reset(client, in_use, {"status": "in-use", "attach_status": "attached"})

    _verify(client, available, "available", size_gib)
    _verify(client, in_use, "in-use", size_gib)
    return SeededVolumes(available, in_use)


def set_volume_host(database: Path, volume_id: str, host: str = FAKE_HOST) -> None:
    """Give a volume the host a scheduler would have chosen (snapshots of host-less volumes are refused)."""
    with sqlite3.connect(database, timeout=30) as connection:
        updated = connection.execute("UPDATE volumes SET host = ? WHERE id = ?", (host, volume_id)).rowcount
    connection.close()
    if updated != 1:
        raise SeedError(f"volume {volume_id} is not in {database}")


def _hosted_volume(client: CinderClient, database: Path, name: str, size_gib: int) -> str:
    body = client.expect(202, "POST", "/volumes", {"volume": {"size": size_gib, "name": name}})
    volume_id = str(body["volume"]["id"])
    set_volume_host(database, volume_id)
    return volume_id


def _reset(client: CinderClient, volume_id: str, state: Mapping[str, str]) -> None:
    client.expect(202, "POST", f"/volumes/{volume_id}/action", {"os-reset_status": dict(state)})


def _verify(client: CinderClient, volume_id: str, status: str, size_gib: int) -> None:
    volume = client.expect(200, "GET", f"/volumes/{volume_id}")["volume"]
    if volume["status"] != status or volume["size"] != size_gib:
        raise SeedError(f"volume {volume_id} is {volume['status']} of {volume['size']} GiB, not {status}")


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return raw.decode("utf-8", "replace")
