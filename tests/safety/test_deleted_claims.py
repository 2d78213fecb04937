"""No "deleted" without a DELETE: against a target that never shows a snapshot it made (every read 404), the
report calls nothing deleted, and lists each snapshot as not verifiable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.mock.server import MockConfig, serve_in_thread
from tests.runs import run_command

pytestmark = pytest.mark.slow


def test_a_target_that_never_shows_its_snapshots_gets_no_deleted_claim(tmp_path: Path) -> None:
    with serve_in_thread(MockConfig(quirks=frozenset({"read-back-404"}))) as mock:
        options = ("--max-creates", "20", "--cleanup-timeout", "20")
        completed = run_command(mock, tmp_path, *options, env={"EVS_TOKEN": mock.token})
        assert mock.backend is not None
        still_there = {s["id"] for s in mock.backend.list_snapshots(mock.project_id)}
    assert completed.returncode == 1, completed.stderr[-3000:]
    assert "Traceback" not in completed.stdout + completed.stderr
    report = json.loads((tmp_path / "conformance.json").read_text())
    cleanup = report["cleanup"]
    assert (cleanup["deleted"], cleanup["already_gone"]) == (0, 0)
    journal = [json.loads(line) for line in (tmp_path / "creates.jsonl").read_text().splitlines()]
    accepted = {line["id"] for line in journal if line.get("outcome") == "accepted"}
    assert accepted
    assert [line for line in journal if line["e"] in ("gone", "seen")] == []
    listed = {entry["id"]: entry["reason"] for entry in cleanup["left"]}
    assert set(listed) == accepted
    assert all("not verifiable: the target never showed it" in reason for reason in listed.values())
    # What the run deleted got exactly one DELETE each, as the HAR of every exchange shows. (Schemathesis's
    # coverage phase also sends DELETE to the collection itself, a method it does not allow: no snapshot.)
    har = json.loads((tmp_path / "exchanges.har").read_text())
    deletes = [
        url.rsplit("/snapshots/", 1)[1]
        for url in (e["request"]["url"] for e in har["log"]["entries"] if e["request"]["method"] == "DELETE")
        if "/snapshots/" in url
    ]
    assert set(deletes) <= accepted
    assert accepted - still_there <= set(deletes), "a snapshot went away without a DELETE of ours"
