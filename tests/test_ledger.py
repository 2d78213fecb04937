"""Ledgers: what one process records, and how several merge into one verdict per requirement."""

from __future__ import annotations

from pathlib import Path

from conformance.checks.model import Outcome, Violation
from conformance.exchange import Exchange, Received, SentRequest
from conformance.ledger import (
    Cleanup,
    Ledger,
    LeftSnapshot,
    ledger_files,
    merge,
    merge_cleanup,
    merge_stats,
    read_target,
)

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
