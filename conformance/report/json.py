"""``conformance.json``: one verdict per requirement of the catalogue, the target (no secrets), the figures.

Example::

    report = build(settings=s, contract=c, target=t, verdicts=merge(paths), catalogue=reqs, stats=st,
                   duration_s=12.5)
    write(reports / FILENAME, report)
    report["verdict"]   # "pass", "fail" or "incomplete"

Each requirement row holds its verdict and evidence, the line of the API page it rests on
(``document_line``), what the target did where the document is silent (``observations``, whatever the
verdict), the tests that contributed, its exchange counts and, for a failure, the minimal case with its
structured violation, its exchange (a HAR entry, secrets masked) and what a replay needs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import __version__
from conformance.contract import Contract
from conformance.core.errors import ToolError
from conformance.core.verdicts import SKIP, VERDICTS, run_verdict
from conformance.report.document import DocumentPage
from conformance.report.ledger import TIME_BUCKETS_MS, Cleanup, RequirementVerdict, Stats, redact_values
from conformance.run.settings import RunSettings

if TYPE_CHECKING:
    from conformance.contract.requirements import Requirement

FILENAME = "conformance.json"
#: The start of a skip reason that says the create budget ran out (the budget module words it).
BUDGET_SKIP = "create budget exhausted"
NOT_EXERCISED = "Not exercised in this run: no test reached a check of this requirement."
#: The evidence of a requirement left out by ``--requirements``.
NOT_SELECTED = "not selected (--requirements)"


def build(
    *,
    settings: RunSettings,
    contract: Contract,
    target: Mapping[str, Any],
    verdicts: Mapping[str, RequirementVerdict],
    catalogue: Sequence[Requirement],
    stats: Stats,
    duration_s: float,
    cleanup: Cleanup | None = None,
    selected: Collection[str] | None = None,
    incomplete_reason: str | None = None,
    finished_at: datetime | None = None,
) -> dict[str, Any]:
    """The report as plain data: every catalogue requirement in catalogue order, then any others seen.

    Requirements outside ``selected`` (when given) are ``skip`` "not selected (--requirements)";
    ``incomplete_reason`` says why the run stopped early (the verdict is then ``incomplete`` unless a
    requirement failed).
    """
    page = DocumentPage.load(contract)
    rows = [_row(r.id, verdicts.get(r.id), r, settings.profile, page) for r in catalogue]
    known = {r.id for r in catalogue}
    rows += [
        _row(rid, verdict, None, settings.profile, page)
        for rid, verdict in verdicts.items()
        if rid not in known
    ]
    if selected is not None:
        rows = [row if row["id"] in selected else _unselected(row) for row in rows]
    counts = Counter(row["verdict"] for row in rows)
    finished = finished_at or datetime.now(UTC)
    report: dict[str, Any] = {
        "verdict": run_verdict(counts, incomplete_reason=incomplete_reason),
    }
    if incomplete_reason:
        report["incomplete_reason"] = incomplete_reason
    return report | {
        "profile": settings.profile,
        "api_version": contract.api_prefix.strip("/"),
        "operation": f"POST {contract.path_template}",
        "document": {
            "name": page.name if page is not None else None,
            "updated": page.page.updated if page is not None else None,
        },
        "started_at": (finished - timedelta(seconds=duration_s)).isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "target": dict(target),
        "seed": settings.seed,
        "examples": settings.examples,
        "lifecycle": settings.lifecycle,
        "max_creates": settings.max_creates,
        "tool": {"name": "evs-conformance", "version": __version__},
        "counts": {verdict: counts[verdict] for verdict in VERDICTS},
        "selected": None if selected is None else sorted(selected),
        "requirements": rows,
        "stats": {
            "cases": stats.cases,
            "duration_s": round(duration_s, 3),
            "creates": stats.creates,
            "cases_per_s": round(stats.cases / duration_s, 1) if duration_s > 0 else 0.0,
            "response_times": {
                "buckets_ms": list(TIME_BUCKETS_MS),
                "by_status": {status: list(counts) for status, counts in stats.response_times.items()},
            },
        },
        "cleanup": _cleanup(cleanup),
    }


def _unselected(row: dict[str, Any]) -> dict[str, Any]:
    """A row the user left out: skipped, whatever the run happened to see of it (observations kept)."""
    kept = {k: v for k, v in row.items() if k not in ("reproduction", "minimal_case")}
    return kept | {"verdict": SKIP, "evidence": NOT_SELECTED, "selected": False}


def _cleanup(cleanup: Cleanup | None) -> dict[str, Any]:
    if cleanup is None:
        return {"deleted": 0, "left": [], "skipped": "the run created nothing to clean up"}
    return {
        "deleted": cleanup.deleted,
        "already_gone": cleanup.already_gone,
        "left": [{"id": s.id, "reason": s.reason} for s in cleanup.left],
        "skipped": cleanup.skipped,
    }


def _row(
    requirement_id: str,
    verdict: RequirementVerdict | None,
    requirement: Requirement | None,
    profile: str,
    page: DocumentPage | None,
) -> dict[str, Any]:
    title = requirement.title if requirement else ""
    difference = requirement.profiles.get(profile) if requirement is not None else None
    if difference:
        title = f"{title} ({profile} profile: {difference})"
    source = requirement.source if requirement else ""
    row: dict[str, Any] = {
        "id": requirement_id,
        "verdict": verdict.verdict if verdict else SKIP,
        "title": title,
        "source": source,
        "evidence": verdict.evidence if verdict else NOT_EXERCISED,
    }
    # The line the decision rests on: the row a failure broke, else where the catalogue says it is stated.
    broken = verdict.broken_source if verdict is not None else None
    reference = broken if broken and page is not None and page.line_of(broken) else source
    row["document_ref"] = reference
    row["document_line"] = page.line_of(reference) if page is not None and reference else None
    if broken:
        row["broken_source"] = broken
    if verdict is not None and verdict.reproduction:
        row["reproduction"] = verdict.reproduction
    row["observations"] = [
        {"sentence": o.sentence, **({"curl": o.curl} if o.curl else {})}
        for o in (verdict.observations if verdict else ())
    ]
    row["tests"] = [{"test": t, "outcome": o} for t, o in verdict.tests] if verdict else []
    row["exchanges"] = {
        "checked": verdict.checked if verdict else 0,
        "violations": verdict.violations if verdict else 0,
        "silent": verdict.silent if verdict else 0,
    }
    if verdict is not None and verdict.minimal is not None:
        row["minimal_case"] = verdict.minimal.as_dict()
    return row


def redacted(report: Mapping[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``report`` with ``redact`` applied to every string value in it."""
    masked: dict[str, Any] = redact_values(report, redact)
    return masked


def write(path: Path, report: Mapping[str, Any]) -> Path:
    """Write the report as indented UTF-8 JSON; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> dict[str, Any]:
    """Read a report back; raises ToolError when it is missing or not a report."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"{path}: cannot read the report: {exc.strerror}") from exc
    except ValueError as exc:
        raise ToolError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(report, dict) or "requirements" not in report or "verdict" not in report:
        raise ToolError(f"{path}: not a conformance report")
    return report
