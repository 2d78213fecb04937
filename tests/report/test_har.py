"""The HAR file of a run: HAR 1.2 entries written as they come, from any thread, secrets masked."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest

from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.core.recording import body_bytes, exchange_from_entry, har_entry
from conformance.report.har import FIELD, HarWriter, by_requirement, entries, merge_parts

URL = "http://127.0.0.1:9/v2/p/snapshots?limit=1"
SECRET = "secret-token-0123456789"


def _mask(text: str) -> str:
    return text.replace(SECRET, "***")


def exchange(body: bytes | None = b'{"snapshot":{}}', status: int | None = 400) -> Exchange:
    request = SentRequest(
        "POST", URL, {"x-auth-token": "***", "content-type": "application/json"}, body, {"snapshot": {}}, True
    )
    response = None if status is None else Received(status, {"content-type": "application/json"}, b'{"e":1}')
    return Exchange(request, response, None if response else "ReadTimeout: 30 s", 0.0125, 2)


def test_an_entry_has_the_har_fields_and_reads_back_as_the_same_exchange() -> None:
    original = exchange()
    entry = har_entry(original, extra={"_evs": {"test": "t"}})
    assert entry["time"] == 12.5
    assert entry["timings"] == {"send": 0, "wait": 12.5, "receive": 0}
    assert entry["request"]["queryString"] == [{"name": "limit", "value": "1"}]
    assert entry["request"]["postData"] == {
        "mimeType": "application/json",
        "text": '{"snapshot":{}}',
        "_json": True,
    }
    assert entry["response"]["content"]["text"] == '{"e":1}'
    assert entry["_attempts"] == 2
    assert exchange_from_entry(entry) == original
    with pytest.raises(ValueError, match="start with '_'"):
        har_entry(original, extra={"evs": 1})


def test_binary_bodies_are_base64_with_secrets_masked_and_no_answer_is_status_0() -> None:
    body = b"\xff\x00" + SECRET.encode() + b"\xfe"
    entry = har_entry(exchange(body, status=None), redact=_mask)
    post = entry["request"]["postData"]
    assert post["encoding"] == "base64"
    assert body_bytes(post) == b"\xff\x00***\xfe"
    assert SECRET.encode() not in base64.b64decode(post["text"])
    assert entry["response"]["status"] == 0
    assert entry["response"]["_error"] == "ReadTimeout: 30 s"
    assert exchange_from_entry(entry).response is None


def test_the_writer_is_a_json_document_streamed_from_many_threads(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    writer = HarWriter(path, redact=_mask)

    def add(number: int) -> None:
        for _ in range(25):
            writer.add(
                exchange(SECRET.encode()), requirements={f"REQ-{number}", "RSP-NO-5XX"}, test=f"t{number}"
            )

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["log"]["version"] == "1.2"
    assert document["log"]["creator"]["name"] == "evs-conformance"
    assert len(document["log"]["entries"]) == 100
    assert SECRET not in path.read_text(encoding="utf-8")
    assert by_requirement(path) == {"RSP-NO-5XX": 100, **{f"REQ-{n}": 25 for n in range(4)}}
    with pytest.raises(ValueError, match="closed"):
        writer.add(exchange(), requirements=(), test="t")


def test_an_unfinished_file_still_reads_entry_by_entry_and_parts_merge(tmp_path: Path) -> None:
    first, second = tmp_path / "gw0.har", tmp_path / "gw1.har"
    with HarWriter(first) as writer:
        writer.add(exchange(), requirements=("A",), test="t1", failed=("A",))
    cut = HarWriter(second)
    cut.add(exchange(), requirements=("B",), test="t2")
    cut.add(exchange(), requirements=("B",), test="t3")
    cut.flush()
    # A run killed mid-write: the last line is cut short and the document never closed.
    second.write_text(second.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    assert [e[FIELD]["test"] for e in entries(second)] == ["t2"]
    merged = tmp_path / "exchanges.har"
    assert merge_parts([first, second], merged) == 2
    document = json.loads(merged.read_text(encoding="utf-8"))
    assert [e[FIELD] for e in document["log"]["entries"]] == [
        {"requirements": ["A"], "test": "t1", "failed": ["A"]},
        {"requirements": ["B"], "test": "t2"},
    ]
