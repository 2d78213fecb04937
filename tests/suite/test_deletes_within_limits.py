"""Deleting on a target that will not delete a snapshot still being made: a DELETE it refuses for that reason
is sent again once the snapshot may be made, never charged to LIFE-DELETE, and never ends cleanup's work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.contract import load_contract
from conformance.mock.server import MockConfig, serve_in_thread
from conformance.run.settings import TargetSettings
from conformance.target import Target
from conformance.target.cleanup import clean_up
from tests.runs import run_command

#: The tests that carry the snapshot's life, and nothing else that creates.
LIFECYCLE = ("--requirements", "LIFE-*", "--max-creates", "6", "--examples", "1", "--no-shrink")


def _run(tmp_path: Path, quirk: str, **limits: Any) -> tuple[dict[str, str], dict[str, Any]]:
    config = MockConfig(quirks=frozenset({quirk}), refuse_delete_while_creating=True, **limits)
    with serve_in_thread(config) as mock:
        result = run_command(
            mock, tmp_path, *LIFECYCLE, "--settle-timeout", "2", "--cleanup-timeout", "5",
            env={"EVS_TOKEN": mock.token},
        )  # fmt: skip
    path = tmp_path / "conformance.json"
    assert path.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(path.read_text(encoding="utf-8"))
    rows = {row["id"]: row for row in report["requirements"]}
    return {rid: row["verdict"] for rid, row in rows.items() if rid.startswith("LIFE-")}, rows


def test_a_delete_refused_while_the_snapshot_never_settles_is_not_reached_not_failed(tmp_path: Path) -> None:
    verdicts, rows = _run(tmp_path, "never-settles")
    assert verdicts == {"LIFE-READ": "pass", "LIFE-SETTLE": "fail", "LIFE-DELETE": "skip"}
    evidence = rows["LIFE-DELETE"]["evidence"]
    assert "not reached within the target's limits" in evidence
    assert "cannot be deleted" in evidence


def test_a_delete_refused_before_a_lagging_read_shows_the_snapshot_made_is_sent_again(tmp_path: Path) -> None:
    # Reads answer 404, so the run deletes at once while the snapshot takes half a second to be made.
    verdicts, _ = _run(tmp_path, "read-back-404", settle_seconds=0.5)
    assert verdicts == {"LIFE-READ": "fail", "LIFE-SETTLE": "fail", "LIFE-DELETE": "pass"}


def test_cleanup_sends_a_refused_delete_again_until_the_unseen_snapshot_is_made() -> None:
    config = MockConfig(
        quirks=frozenset({"read-back-404"}), refuse_delete_while_creating=True, settle_seconds=0.5
    )
    with serve_in_thread(config) as mock:
        assert mock.backend is not None
        settings = TargetSettings(
            base_url=mock.base_url, project_id=mock.project_id, token=mock.token,
            available_volume_id=mock.available_volume_id,
        )  # fmt: skip
        target = Target(load_contract("huawei"), settings)
        created = target.create({"snapshot": {"volume_id": mock.available_volume_id}})
        assert created.response is not None
        assert created.response.status == 202
        result = clean_up(target, target.records, timeout_s=10)
        held = mock.backend.list_snapshots(mock.project_id)
    assert held == []
    # Never shown (every read is 404), so it is listed as not verifiable, not claimed as deleted.
    assert result.deleted == ()
    assert [left.reason for left in result.left] == [
        "DELETE accepted, then read 404; not verifiable: the target never showed it"
    ]
