"""Print the mock's snapshot-create throughput on loopback, against a trivial GET on the same connection.

Run: ``python benchmarks/mock_throughput.py [--seconds S] [--profile huawei|cinder]``. The mock runs in a
child process, as a real target would, so the client and the server do not share one interpreter lock.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from http import HTTPStatus

import httpx

from conformance.contract import PROFILES, load_contract
from conformance.mock import MockConfig, serve_in_subprocess


def rate(call: Callable[[], httpx.Response], seconds: float, expected: int) -> float:
    """Calls per second of ``call`` over about ``seconds``, checking each answer's status."""
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        response = call()
        if response.status_code != expected:
            raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")
        done += 1
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--profile", choices=PROFILES, default="huawei")
    options = parser.parse_args()
    contract = load_contract(options.profile)
    with (
        serve_in_subprocess(MockConfig(profile=options.profile)) as mock,
        httpx.Client(
            base_url=mock.api_url, headers={contract.token_header: mock.token}, timeout=10
        ) as client,
    ):
        body = {
            contract.snapshot_key: {
                "volume_id": mock.available_volume_id,
                "name": "bench",
                "metadata": {"k": "v"},
            }
        }
        volume = f"/volumes/{mock.available_volume_id}"
        client.get(volume)
        baseline = rate(lambda: client.get(volume), options.seconds, HTTPStatus.OK)
        creates = rate(
            lambda: client.post("/snapshots", json=body), options.seconds, contract.accepted_status
        )
    print(f"profile:              {options.profile}")
    print(f"GET volume (baseline): {baseline:8.0f} requests/s")
    print(f"POST snapshots:        {creates:8.0f} creates/s")
    print(f"create / baseline:     {creates / baseline:8.2f}")


if __name__ == "__main__":
    main()
