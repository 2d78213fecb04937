from __future__ import annotations

from conformance.contract import Contract
from conformance.rules.checks import snapshot_echoes_request
from tests.checks.conftest import sent_snapshot, summary


def test_an_exact_echo_passes(huawei: Contract) -> None:
    assert snapshot_echoes_request(huawei, sent_snapshot(), summary()) == []


def test_a_changed_name_fails_quoting_the_row(huawei: Contract) -> None:
    (found,) = snapshot_echoes_request(huawei, sent_snapshot(name="a"), summary(name="b"))
    assert found.requirement == "RSP-ECHO"
    assert found.message.startswith('Received: name = "b"\nDocumented: name as sent, "a"')
    assert "Table 6 SnapshotSummary/name" in found.message


def test_lost_metadata_fails_and_extra_metadata_passes(huawei: Contract) -> None:
    (found,) = snapshot_echoes_request(huawei, sent_snapshot(metadata={"a": "1"}), summary(metadata={}))
    assert '"a": "1"' in found.message
    assert (
        snapshot_echoes_request(
            huawei, sent_snapshot(metadata={"a": "1"}), summary(metadata={"a": "1", "b": ""})
        )
        == []
    )


def test_whitespace_is_trimmed_only_where_the_profile_says(huawei: Contract, cinder: Contract) -> None:
    sent, got = sent_snapshot(name="  x "), summary(name="x")
    assert snapshot_echoes_request(cinder, sent, got) == []
    assert len(snapshot_echoes_request(huawei, sent, got)) == 1


def test_fields_not_sent_are_not_compared(huawei: Contract) -> None:
    sent = {"volume_id": summary()["volume_id"]}
    assert snapshot_echoes_request(huawei, sent, summary(name=None, description=None)) == []
