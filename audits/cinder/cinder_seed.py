"""Preparing a complete Cinder through its API, as a user would: the backend is up, and two disks exist.

One disk is created and waited to ``available``; the other is created, then attached with the ``os-attach``
volume action (what a compute service asks for; none runs here), so its ``in-use`` comes from Cinder's own
volume service. The project's quotas are lifted first: the suite creates hundreds of snapshots.

Example::

    pool = wait_for_backend(client)             # e.g. "evs-audit@fake#fake"
    volumes = seed(client)                      # SeededVolumes(available_id=..., in_use_id=...)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cinder_client import CinderApiError, CinderClient

UNLIMITED = -1
WAIT_TIMEOUT_S = 120.0
MOUNTPOINT = "/dev/vdb"
SERVICES = ("cinder-scheduler", "cinder-volume")


@dataclass(frozen=True)
class SeededVolumes:
    available_id: str
    in_use_id: str


def wait_for_backend(
    client: CinderClient,
    check_running: Callable[[], None] = lambda: None,
    timeout_s: float = WAIT_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The first pool once both services are up and the scheduler knows it; ``check_running`` sees a crash."""
    deadline = time.monotonic() + timeout_s
    why = "not asked yet"
    while time.monotonic() < deadline:
        check_running()
        services = client.expect(200, "GET", "/os-services")["services"]
        down = services_not_up(services)
        if down:
            why = "services not up: " + ", ".join(down)
        else:
            pools = [
                str(pool["name"]) for pool in client.expect(200, "GET", "/scheduler-stats/get_pools")["pools"]
            ]
            if pools:
                return pools[0]
            why = "the scheduler knows no storage pool yet"
        sleep(1.0)
    raise CinderApiError(f"Cinder's backend was not ready within {timeout_s:.0f} s ({why})")


def services_not_up(services: list[Mapping[str, Any]]) -> list[str]:
    """The binaries among SERVICES that are missing, disabled or down in an os-services list."""
    down = []
    for binary in SERVICES:
        rows = [s for s in services if s.get("binary") == binary]
        if not any(s.get("state") == "up" and s.get("status") == "enabled" for s in rows):
            down.append(binary if rows else f"{binary} (not registered)")
    return down


def seed(client: CinderClient, size_gib: int = 1, timeout_s: float = WAIT_TIMEOUT_S) -> SeededVolumes:
    """Lift the quotas and make one available and one in-use volume, each read back in its state."""
    project = client.project_id
    quota = {"snapshots": UNLIMITED, "volumes": UNLIMITED, "gigabytes": UNLIMITED}
    client.expect(200, "PUT", f"/os-quota-sets/{project}", {"quota_set": quota})

    available = _create_volume(client, "evs-audit-available", size_gib)
    in_use = _create_volume(client, "evs-audit-in-use", size_gib)
    wait_for_volume(client, available, "available", timeout_s)
    wait_for_volume(client, in_use, "available", timeout_s)

    attach = {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": MOUNTPOINT}}
    client.expect(202, "POST", f"/volumes/{in_use}/action", attach)
    volume = wait_for_volume(client, in_use, "in-use", timeout_s)
    if volume.get("attachments") in (None, []):
        raise CinderApiError(f"volume {in_use} is in-use but lists no attachment: {volume}")
    for volume_id in (available, in_use):
        size = client.expect(200, "GET", f"/volumes/{volume_id}")["volume"]["size"]
        if size != size_gib:
            raise CinderApiError(f"volume {volume_id} has {size} GiB, not {size_gib}")
    return SeededVolumes(available, in_use)


def wait_for_volume(
    client: CinderClient,
    volume_id: str,
    status: str,
    timeout_s: float = WAIT_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Mapping[str, Any]:
    """Read the volume until it has ``status``; a volume in ``error`` or a timeout is a CinderApiError."""
    deadline = time.monotonic() + timeout_s
    pause = 0.2
    while True:
        volume: Mapping[str, Any] = client.expect(200, "GET", f"/volumes/{volume_id}")["volume"]
        current = volume.get("status")
        if current == status:
            return volume
        if str(current).startswith("error"):
            raise CinderApiError(f"volume {volume_id} went to {current!r} instead of {status!r}")
        if time.monotonic() >= deadline:
            raise CinderApiError(
                f"volume {volume_id} still {current!r} after {timeout_s:.0f} s, not {status!r}"
            )
        sleep(pause)
        pause = min(pause * 2, 2.0)


def _create_volume(client: CinderClient, name: str, size_gib: int) -> str:
    body = client.expect(202, "POST", "/volumes", {"volume": {"size": size_gib, "name": name}})
    return str(body["volume"]["id"])
