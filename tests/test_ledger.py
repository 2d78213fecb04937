"""Ledgers: what one process records, and how several merge into one verdict per requirement."""

from __future__ import annotations

import bisect
from pathlib import Path

from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.core.recording import exchange_from_entry
from conformance.report.ledger import (
    NO_RESPONSE,
    TIME_BUCKETS_MS,
    Cleanup,
    Ledger,
    LeftSnapshot,
    Observation,
    ledger_files,
    merge,
    merge_cleanup,
    merge_stats,
    read_target,
)
from conformance.rules.checks.model import Criteria, Expectation, Outcome, Violation

URL = "http://127.0.0.1:9/v2/p/snapshots"


def exchange(body: bytes = b"{}") -> Exchange:
    return Exchange(SentRequest("POST", URL, {}, body, None, False), Received(400, {}, b"{}"))


def outcome(checked: set[str], *violations: Violation, infos: tuple[tuple[str, str], ...] = ()) -> Outcome:
    return Outcome(frozenset(checked), violations, infos)


def broken(requirement: str, received: str = "202", source: str = "Table 4") -> Violation:
    return Violation(requirement, "status_matches_expectation", received, "400", source)


def test_fail_beats_pass_across_processes(tmp_path: Path) -> None:
    first, second = Ledger(tmp_path / "a.jsonl"), Ledger(tmp_path / "b.jsonl")
    first.record(outcome({"REQ-NAME", "RSP-NO-5XX"}), exchange(), test="t1")
    second.record(outcome({"REQ-NAME"}, broken("REQ-NAME")), exchange(), test="t2")
    first.close()
    second.close()
    verdicts = merge(ledger_files(tmp_path))
    assert verdicts["REQ-NAME"].verdict == "fail"
    assert verdicts["RSP-NO-5XX"].verdict == "pass"
    assert "Documented: 400 (Table 4)" in verdicts["REQ-NAME"].evidence
    assert verdicts["REQ-NAME"].reproduction == exchange().curl()


def test_pass_beats_info_and_info_beats_skip(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    ledger.info("ADV-AUTOBK", "The target accepted a reserved name with 202")
    ledger.skip("ADV-AUTOBK", "not this one")
    ledger.info("REQ-METADATA", "The target refused null metadata with 400")
    ledger.observe("REQ-METADATA", ok=True, evidence="non-string values were refused")
    ledger.skip("REQ-FORCE-FALSE", "no in-use disk configured (--in-use-volume-id)")
    ledger.close()
    verdicts = merge([ledger.path])
    assert verdicts["ADV-AUTOBK"].verdict == "info"
    assert verdicts["ADV-AUTOBK"].evidence == "The target accepted a reserved name with 202."
    assert verdicts["REQ-METADATA"].verdict == "pass"
    assert "non-string values were refused." in verdicts["REQ-METADATA"].evidence
    assert verdicts["REQ-FORCE-FALSE"].verdict == "skip"
    assert "--in-use-volume-id" in verdicts["REQ-FORCE-FALSE"].evidence


def test_the_smallest_failing_case_is_the_reproduction(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    for size in (300, 40, 120):
        body = b"x" * size
        ledger.record(outcome(set(), broken("REQ-NAME", f"{size}")), exchange(body), test="t")
    ledger.close()
    verdict = merge([ledger.path])["REQ-NAME"]
    assert verdict.violations == 3
    assert "Received: 40" in verdict.evidence
    assert verdict.reproduction is not None
    assert verdict.reproduction.endswith(" " + "x" * 40)


def test_many_violations_keep_the_minimal_one_and_the_count(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    for size in range(200, 100, -1):
        ledger.record(outcome(set(), broken("REQ-NAME", f"size {size}")), exchange(b"y" * size), test="t")
    ledger.close()
    lines = ledger.path.read_text(encoding="utf-8").splitlines()
    verdict = merge([ledger.path])["REQ-NAME"]
    assert len(lines) < 150
    assert verdict.violations == 100
    assert "size 101" in verdict.evidence


def test_infos_are_written_once_per_sentence(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    for _ in range(5):
        ledger.record(outcome(set(), infos=(("REQ-NAME", "null name accepted"),)), exchange(), test="t")
    ledger.close()
    assert ledger.path.read_text(encoding="utf-8").count('"info"') == 1


def test_a_broken_requirement_is_not_also_counted_as_passed(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    ledger.record(outcome({"RSP-ECHO", "OP-ACCEPT"}, broken("RSP-ECHO")), exchange(), test="t")
    ledger.close()
    verdicts = merge([ledger.path])
    assert verdicts["RSP-ECHO"].checked == 0
    assert verdicts["OP-ACCEPT"].checked == 1


def test_the_current_test_names_unnamed_observations(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    ledger.current_test = "suite/test_x.py::test_y"
    ledger.observe("LIFE-READ", ok=False, evidence="GET answered 500", exchange=exchange())
    ledger.close()
    assert ledger.has_failed("suite/test_x.py::test_y")
    assert "suite/test_x.py::test_y" in merge([ledger.path])["LIFE-READ"].evidence


def test_stats_and_target_merge(tmp_path: Path) -> None:
    for name, cases in (("a", 3), ("b", 4)):
        ledger = Ledger(tmp_path / f"{name}.jsonl")
        ledger.describe({"base_url": "http://127.0.0.1:1"})
        for _ in range(cases):
            ledger.record(outcome({"RSP-NO-5XX"}), exchange(), test="t")
        ledger.creates = 2
        ledger.close()
    paths = ledger_files(tmp_path)
    stats = merge_stats(paths)
    assert (stats.cases, stats.creates) == (7, 4)
    assert read_target(paths) == {"base_url": "http://127.0.0.1:1"}
    assert merge(paths)["RSP-NO-5XX"].checked == 7


def test_an_unused_ledger_writes_no_file(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "sub" / "a.jsonl")
    ledger.close()
    assert ledger_files(tmp_path / "sub") == []


def test_every_written_value_is_redacted(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl", redact=lambda text: text.replace("secret-token-1", "***"))
    ledger.observe("LIFE-READ", ok=False, evidence="the target echoed secret-token-1", test="t")
    ledger.close()
    text = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert "secret-token-1" not in text
    assert merge(ledger_files(tmp_path))["LIFE-READ"].evidence.endswith("the target echoed ***")


def test_cleanups_of_every_process_add_up(tmp_path: Path) -> None:
    first, second = Ledger(tmp_path / "a.jsonl"), Ledger(tmp_path / "b.jsonl")
    first.cleaned(Cleanup(2, (LeftSnapshot("s1", "DELETE refused: 400"),)))
    second.cleaned(Cleanup(3))
    first.close()
    second.close()
    assert merge_cleanup(ledger_files(tmp_path)) == Cleanup(5, (LeftSnapshot("s1", "DELETE refused: 400"),))
    assert "s1" not in merge(ledger_files(tmp_path))


def test_a_failure_names_the_document_line_it_broke_from_the_violation_fields(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    # A parenthesis in the received text must not be taken for the source, as a parsed message would.
    violation = Violation("REQ-NAME", "status_matches_expectation", "202 (Accepted)", "400 for a long name",
                          "Table 4 CinderCreateSnapshotOption/name")  # fmt: skip
    ledger.record(outcome({"REQ-NAME"}, violation), exchange(), test="t")
    ledger.observe("LIFE-READ", ok=False, evidence="GET answered 500 (server error)", test="t")
    ledger.close()
    verdicts = merge(ledger_files(tmp_path))
    minimal = verdicts["REQ-NAME"].minimal
    assert minimal is not None
    assert verdicts["REQ-NAME"].broken_source == "Table 4 CinderCreateSnapshotOption/name"
    assert (minimal.received, minimal.documented) == ("202 (Accepted)", "400 for a long name")
    assert minimal.message == violation.message
    assert verdicts["LIFE-READ"].broken_source is None


def test_silences_are_kept_whatever_the_verdict_with_each_test_and_counts(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    sentence = "undocumented summary fields (document silent): ['extra']"
    for _ in range(3):
        ledger.record(
            outcome({"RSP-202-SCHEMA"}, infos=(("RSP-202-SCHEMA", sentence),)), exchange(), test="t1"
        )
    ledger.record(outcome({"RSP-202-SCHEMA"}, broken("RSP-202-SCHEMA")), exchange(), test="t2")
    ledger.info("ADV-AUTOBK", "received 202", exchange(), test="t3")
    ledger.close()
    verdicts = merge([ledger.path])
    schema = verdicts["RSP-202-SCHEMA"]
    assert schema.verdict == "fail"
    assert schema.observations == (Observation(sentence + ".", exchange().curl()),)
    assert (schema.checked, schema.violations, schema.silent) == (3, 1, 3)
    assert schema.tests == (("t1", "checked"), ("t2", "violated"))
    assert verdicts["ADV-AUTOBK"].tests == (("t3", "silent"),)


def test_a_create_failure_keeps_its_exchange_and_what_it_was_judged_by(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl", redact=lambda text: text.replace("secret-token-1", "***"))
    expectation = Expectation("refuse", "REQ-NAME", "invalid-body", "too long")
    body = b'{"snapshot":{"name":"secret-token-1"}}'
    judged = Outcome(frozenset({"REQ-NAME"}), (broken("REQ-NAME"),), criteria=Criteria(expectation, 40))
    ledger.record(judged, exchange(body), test="t")
    ledger.observe("LIFE-READ", ok=False, evidence="GET answered 500", exchange=exchange(), test="t")
    ledger.close()
    assert "secret-token-1" not in ledger.path.read_text(encoding="utf-8")
    verdicts = merge([ledger.path])
    minimal = verdicts["REQ-NAME"].minimal
    assert minimal is not None
    assert minimal.replayable
    assert Expectation.from_dict(minimal.expectation or {}) == expectation
    assert minimal.volume_size == 40
    assert minimal.exchange is not None
    assert exchange_from_entry(minimal.exchange).request.body == b'{"snapshot":{"name":"***"}}'
    lifecycle = verdicts["LIFE-READ"].minimal
    assert lifecycle is not None
    assert not lifecycle.replayable
    assert "replay" not in lifecycle.as_dict()


def test_response_times_are_counted_per_status_code(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    for seconds in (0.0005, 0.003, 0.003, 20.0):
        timed = Exchange(exchange().request, Received(400, {}, b"{}"), None, seconds)
        ledger.record(outcome({"REQ-NAME"}), timed, test="t")
    ledger.observe("LIFE-READ", ok=True, evidence="read", exchange=Exchange(exchange().request, None, "x"))
    ledger.close()
    times = merge_stats([ledger.path]).response_times
    assert list(times) == ["400", NO_RESPONSE]
    assert times["400"][0] == 1
    assert times["400"][bisect.bisect_left(TIME_BUCKETS_MS, 3.0)] == 2
    assert times["400"][-1] == 1
    assert sum(times[NO_RESPONSE]) == 1


def test_a_test_that_only_met_silences_is_not_listed_as_checking(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    ledger.record(outcome({"REQ-NAME"}), exchange(), test="checks")
    ledger.record(outcome(set(), infos=(("REQ-NAME", "null name refused"),)), exchange(), test="probes")
    ledger.close()
    verdict = merge([ledger.path])["REQ-NAME"]
    assert dict(verdict.tests) == {"checks": "checked", "probes": "silent"}
    assert "probes" not in verdict.evidence


def test_a_reused_id_failure_keeps_the_id_it_was_compared_with(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a.jsonl")
    answered = Exchange(exchange().request, Received(202, {}, b'{"snapshot": {"id": "snap-1"}}'))
    reused = Violation(
        "RSP-ID-UNIQUE", "id_is_fresh", 'id = "snap-1"', "a new id", "Table 6 SnapshotSummary/id"
    )
    ledger.record(Outcome(frozenset(), (reused,), criteria=Criteria(None, None)), answered, test="t")
    ledger.close()
    minimal = merge([ledger.path])["RSP-ID-UNIQUE"].minimal
    assert minimal is not None
    assert minimal.seen_ids == ("snap-1",)
