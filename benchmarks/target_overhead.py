"""Print what ``Target.create`` costs in client CPU per request, against bare httpx on the same mock.

Run: ``python benchmarks/target_overhead.py [--creates N] [--rounds R]``. The mock runs in a child process,
so the client's CPU time (``getrusage`` of this process) is the client's alone; wall time is printed too.
The fuzzing loop is bound by the client's CPU, which is why that figure leads. Three ways of sending the
same valid create are measured in interleaved rounds, so a busy neighbour on the machine skews all alike:
``httpx.Client.post`` (the baseline), a bare ``httpx.HTTPTransport`` (the floor), and ``Target.create``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable

import httpx

from conformance.contract import Contract, load_contract
from conformance.mock import MockConfig, RunningMock, serve_in_subprocess
from conformance.run.settings import TargetSettings
from conformance.target import Target

Send = Callable[[], int]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(send: Send, count: int, expected: int) -> tuple[float, float]:
    """Client CPU seconds and wall seconds for ``count`` sends, checking each answer's status."""
    cpu, wall = cpu_s(), time.perf_counter()
    for _ in range(count):
        status = send()
        if status != expected:
            raise SystemExit(f"unexpected HTTP {status}")
    return cpu_s() - cpu, time.perf_counter() - wall


def senders(
    mock: RunningMock,
    contract: Contract,
    client: httpx.Client,
    transport: httpx.HTTPTransport,
    target: Target,
) -> dict[str, Send]:
    body = {contract.snapshot_key: {"volume_id": mock.available_volume_id, "name": "bench"}}
    content = json.dumps(body, separators=(",", ":")).encode()
    url = mock.api_url + "/snapshots"
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        contract.token_header: mock.token,
    }

    def bare_client() -> int:
        return client.post(url, content=content, headers=headers).status_code

    def bare_transport() -> int:
        request = httpx.Request("POST", url, content=content, headers=headers)
        response = transport.handle_request(request)
        try:
            for _ in response.iter_bytes():
                pass
        finally:
            response.close()
        return response.status_code

    def target_create() -> int:
        response = target.create(body).response
        return 0 if response is None else response.status

    return {"httpx.Client.post": bare_client, "HTTPTransport": bare_transport, "Target.create": target_create}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=600, help="creates per way of sending")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds the creates are split into")
    options = parser.parse_args()
    contract = load_contract("huawei")
    expected = contract.accepted_status
    per_round = max(1, options.creates // options.rounds)
    with serve_in_subprocess(MockConfig(profile="huawei")) as mock:
        settings = TargetSettings(
            base_url=mock.base_url,
            project_id=mock.project_id,
            token=mock.token,
            available_volume_id=mock.available_volume_id,
        )
        with (
            httpx.Client(timeout=30, trust_env=False) as client,
            httpx.HTTPTransport(trust_env=False) as transport,
            Target(contract, settings) as target,
        ):
            ways = senders(mock, contract, client, transport, target)
            totals = {name: [0.0, 0.0] for name in ways}
            for send in ways.values():
                measure(send, 20, expected)
            for _ in range(options.rounds):
                for name, send in ways.items():
                    cpu, wall = measure(send, per_round, expected)
                    totals[name][0] += cpu
                    totals[name][1] += wall
    count = per_round * options.rounds
    base_cpu, base_wall = totals["httpx.Client.post"]
    print(f"{count} creates each, {options.rounds} interleaved rounds, mock in a child process")
    print(f"{'':20} {'CPU ms/req':>10} {'wall ms/req':>11} {'CPU ratio':>9} {'wall ratio':>10}")
    for name, (cpu, wall) in totals.items():
        print(
            f"{name:20} {1000 * cpu / count:10.3f} {1000 * wall / count:11.3f} "
            f"{cpu / base_cpu:9.2f} {wall / base_wall:10.2f}"
        )


if __name__ == "__main__":
    main()
