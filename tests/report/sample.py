"""A small conformance.json for unit tests of the views: one requirement of each verdict."""

from __future__ import annotations

import copy
from typing import Any

FAILING_EXCHANGE: dict[str, Any] = {
    "startedDateTime": "2026-01-01T00:00:00+00:00",
    "time": 3.0,
    "request": {
        "method": "POST",
        "url": "http://127.0.0.1:9/v2/p/snapshots",
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [
            {"name": "x-auth-token", "value": "***"},
            {"name": "content-type", "value": "application/json"},
        ],
        "queryString": [],
        "headersSize": -1,
        "bodySize": 9,
        "postData": {"mimeType": "application/json", "text": '{"a":"\\u0000"}'},
    },
    "response": {
        "status": 202,
        "statusText": "Accepted",
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [],
        "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": 2,
    },
    "cache": {},
    "timings": {"send": 0, "wait": 3.0, "receive": 0},
}

_REPORT: dict[str, Any] = {
    "verdict": "fail",
    "profile": "huawei",
    "api_version": "v2",
    "operation": "POST /v2/{project_id}/snapshots",
    "document": {"name": "create-evs-snapshot.txt", "updated": "2024-02-27"},
    "started_at": "2026-01-01T00:00:00+00:00",
    "finished_at": "2026-01-01T00:00:05+00:00",
    "target": {"base_url": "http://127.0.0.1:9", "project_id": "p"},
    "counts": {"pass": 1, "fail": 1, "waived": 1, "info": 1, "skip": 1},
    "requirements": [
        {
            "id": "REQ-NAME",
            "verdict": "fail",
            "title": "name is at most 64 characters",
            "source": "Table 4",
            "evidence": "2 violation(s). Minimal case:\nReceived: 202",
            "document_ref": "Table 4 CinderCreateSnapshotOption/name",
            "document_line": 121,
            "broken_source": "Table 4 CinderCreateSnapshotOption/name",
            "reproduction": "curl -i -X POST http://127.0.0.1:9/v2/p/snapshots",
            "observations": [],
            "tests": [
                {"test": "t.py::test_a", "outcome": "violated"},
                {"test": "t.py::test_b", "outcome": "checked"},
            ],
            "exchanges": {"checked": 3, "violations": 2, "silent": 0},
            "minimal_case": {
                "test": "t.py::test_a",
                "check": "status_matches_expectation",
                "received": "202 Accepted",
                "documented": "400",
                "source": "Table 4 CinderCreateSnapshotOption/name",
                "message": "Received: 202 Accepted\nDocumented: 400",
                "exchange": FAILING_EXCHANGE,
                "replay": {"expectation": None, "volume_size": None, "seen_ids": []},
            },
        },
        {
            "id": "RSP-ECHO",
            "verdict": "waived",
            "title": "echo",
            "source": "Tables 4, 6",
            "evidence": "1 violation(s).",
            "waiver": {"reason": "ticket 42", "expires": "2999-01-01"},
            "observations": [],
            "tests": [{"test": "t.py::test_c", "outcome": "violated"}],
            "exchanges": {"checked": 0, "violations": 1, "silent": 0},
        },
        {
            "id": "RSP-202-SCHEMA",
            "verdict": "pass",
            "title": "schema",
            "source": "Tables 5, 6",
            "evidence": "Checked.",
            "observations": [{"sentence": "undocumented summary fields: ['x'].", "curl": "curl x"}],
            "tests": [{"test": "t.py::test_b", "outcome": "checked"}],
            "exchanges": {"checked": 5, "violations": 0, "silent": 1},
        },
        {
            "id": "ADV-AUTOBK",
            "verdict": "info",
            "title": "reserved names",
            "source": "Table 4 note",
            "evidence": "received 202.",
            "observations": [{"sentence": "received 202."}],
            "tests": [{"test": "t.py::test_d", "outcome": "silent"}],
            "exchanges": {"checked": 0, "violations": 0, "silent": 1},
        },
        {
            "id": "LIFE-READ",
            "verdict": "skip",
            "title": "read back",
            "source": "OpenStack Block Storage API",
            "evidence": "lifecycle checks are off (--no-lifecycle).",
            "observations": [],
            "tests": [],
            "exchanges": {"checked": 0, "violations": 0, "silent": 0},
        },
    ],
    "stats": {"cases": 10, "creates": 2, "duration_s": 5.0},
    "cleanup": {"deleted": 1, "left": [{"id": "snap-1", "reason": "DELETE refused: 400"}], "skipped": None},
}


def sample_report(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the sample report with top-level ``changes``."""
    return {**copy.deepcopy(_REPORT), **changes}
