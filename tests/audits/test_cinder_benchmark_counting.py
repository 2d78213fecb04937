"""The Cinder benchmark counts requests from Cinder's API log the same way for both tools."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cinder_vs_schemathesis.py"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cinder_vs_schemathesis", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up by name while the module is being executed.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _line(method: str, path: str, status: int) -> str:
    return (
        "2026-11-30 10:00:53.479 2864 INFO eventlet.wsgi.server [None req-1 user-auditor p - - default]"
        f' 127.0.0.1 "{method} {path} HTTP/1.1" status: {status}  len: 259 time: 0.1169\n'
    )


def test_requests_and_snapshot_creates_are_counted_from_the_api_log(tmp_path: Path) -> None:
    bench = _benchmark()
    log = tmp_path / "cinder-api.log"
    log.write_text(
        _line("POST", "/v3/p/snapshots", 202)
        + _line("POST", "/v3/p/snapshots", 500)
        + "2026-11-30 10:00:53.480 2864 ERROR cinder.api.middleware.fault Caught error: ...\n"
        + _line("GET", "/v3/p/snapshots/abc", 200)
        + _line("POST", "/v3/p/volumes/v/action", 202)
        + _line("DELETE", "/v3/p/snapshots/abc", 202)
        + "2026-11-30 10:00:53.481 2864 INFO cinder.api.openstack.wsgi GET /v3/p/snapshots/abc\n"
    )
    assert bench.served_requests(log) == (5, 2)


def test_rates_and_the_printed_line_come_from_the_counts() -> None:
    figures = _benchmark().Figures("tool", 10.0, 50, 20, 1, "own words")
    assert (figures.rate, figures.create_rate) == (5.0, 2.0)
    assert figures.line() == (
        "tool: 50 requests in 10.0 s = 5.0 requests/s; "
        "20 of them POST .../snapshots = 2.0/s (own words; exit 1)"
    )
