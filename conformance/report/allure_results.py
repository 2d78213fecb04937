"""Allure results written from ``conformance.json``: one result per requirement, its status the verdict's.

Each result carries epic / feature / story (the requirement ID) / severity labels, a link to the line of the
API page it rests on, the minimal failing exchange and the observations as attachments (secrets already
masked), parameters named by what they hold, and one step per test that contributed, whose status never
contradicts the verdict. The overview therefore counts exactly the verdicts: pass and info are ``passed``,
fail is ``failed``, skip and waived are ``skipped`` (a waiver's reason and expiry in its status details).
With the run's HAR file, a few of the exchanges that served each requirement are attached as well.

Example::

    write_results(report, reports / "allure-results", har=reports / "exchanges.har")
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance.contract import Contract, load_contract
from conformance.core.errors import SpecError
from conformance.core.exchange import Exchange
from conformance.core.recording import exchange_from_entry
from conformance.core.verdicts import FAIL, INCOMPLETE, INFO, PASS, SKIP, WAIVED
from conformance.report import har as har_file
from conformance.report.escape import visible

#: How much of a body an attachment shows.
_BODY_SHOWN = 16_384

DIRECTORY = "allure-results"
#: The Allure status of each verdict.
STATUS = {PASS: "passed", INFO: "passed", FAIL: "failed", WAIVED: "skipped", SKIP: "skipped"}
#: The Allure epic: the API the operation belongs to.
EPIC = "Elastic Volume Service (EVS) API"
_SEVERITY_BY_PREFIX = (
    ("OP-", "critical"),
    ("AUTH-", "critical"),
    ("RSP-NO-5XX", "critical"),
    ("ADV-", "minor"),
)
#: Exchanges of the HAR file attached per requirement: the first that broke it, and samples.
_SAMPLES = 2
_FAILED_SAMPLES = 2
_SHOWN = 200


def feature(contract: Contract) -> str:
    """The Allure feature: the operation, named as the document names it."""
    summary = contract.operation.get("summary") or contract.operation.get("operationId", "")
    return f"{summary} (POST {contract.path_template})"


def _feature_of(report: Mapping[str, Any]) -> str:
    api = str(report.get("api_version") or "")
    try:
        return feature(load_contract(str(report.get("profile")), api_prefix=f"/{api}" if api else None))
    except SpecError:
        return str(report.get("operation", ""))


def severity_level(requirement_id: str) -> str:
    """How much a broken requirement matters: the operation and authentication most, advice least."""
    return next(
        (level for prefix, level in _SEVERITY_BY_PREFIX if requirement_id.startswith(prefix)), "normal"
    )


def step_status(verdict: str, outcome: str) -> str:
    """A test's step inside a requirement's result: it can fail only where the requirement failed."""
    if verdict == FAIL and outcome == "violated":
        return "failed"
    if verdict in (PASS, INFO, FAIL) and outcome in ("checked", "silent"):
        return "passed"
    return "skipped"


def _digest(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _millis(stamp: object) -> int | None:
    try:
        return int(datetime.fromisoformat(str(stamp)).timestamp() * 1000)
    except ValueError:
        return None


class _Writer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def attach(self, name: str, text: str, kind: str = "text/plain", ext: str = "txt") -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.{ext}"
        (self.directory / source).write_text(text, encoding="utf-8")
        return {"name": name, "source": source, "type": kind}

    def json(self, name: str, data: Any) -> None:
        path = self.directory / name
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        temporary.replace(path)


def write_results(
    report: Mapping[str, Any], directory: Path, *, har: Path | None = None, document_url: str | None = None
) -> list[Path]:
    """Write one result per requirement (and the run's environment) into ``directory``; returns them.

    ``document_url`` is where the API page can be read (a line is appended as ``#L<n>``); by default the
    page's file name.
    """
    writer = _Writer(directory)
    samples = _samples(har, report) if har is not None and har.is_file() else {}
    profile = str(report.get("profile", ""))
    operation = _feature_of(report)
    page = document_url or str((report.get("document") or {}).get("name") or "document")
    start = _millis(report.get("started_at"))
    stop = _millis(report.get("finished_at"))
    written: list[Path] = []
    for row in report.get("requirements", []):
        rid, verdict = str(row["id"]), str(row["verdict"])
        result: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "historyId": _digest(f"evs-conformance:{profile}:{rid}"),
            "testCaseId": _digest(f"evs-conformance:{rid}"),
            "fullName": f"evs-conformance.{profile}.{rid}",
            "name": f"{rid} {row['title']}",
            "status": STATUS.get(verdict, "unknown"),
            "statusDetails": _details(row),
            "stage": "finished",
            "description": _description(row),
            "steps": _steps(row, writer),
            "attachments": _attachments(row, writer, samples.get(rid, [])),
            "parameters": _parameters(row, profile),
            "labels": [
                {"name": "epic", "value": EPIC},
                {"name": "feature", "value": operation},
                {"name": "story", "value": rid},
                {"name": "severity", "value": severity_level(rid)},
                {"name": "suite", "value": f"evs-conformance ({profile})"},
                {"name": "tag", "value": verdict},
                {"name": "framework", "value": "evs-conformance"},
                {"name": "AS_ID", "value": rid},
            ],
            "links": _links(row, page),
        }
        if start is not None and stop is not None:
            result["start"], result["stop"] = start, stop
        name = f"{result['uuid']}-result.json"
        writer.json(name, result)
        written.append(directory / name)
    _environment(report, writer)
    return written


def _details(row: Mapping[str, Any]) -> dict[str, str]:
    verdict = row["verdict"]
    if verdict == FAIL:
        case = row.get("minimal_case") or {}
        message = (
            f"Received: {case['received']}\nDocumented: {case['documented']}"
            if case.get("received")
            else row["evidence"]
        )
        trace = row["evidence"] + (
            f"\n\nReproduce:\n{row['reproduction']}" if row.get("reproduction") else ""
        )
        return {"message": visible(message), "trace": visible(trace)}
    if verdict == WAIVED:
        waiver = row.get("waiver") or {}
        expires = waiver.get("expires")
        until = f"until {expires}" if expires else "no expiry"
        return {
            "message": visible(f"Waived ({until}): {waiver.get('reason', '')}"),
            "trace": visible(row["evidence"]),
        }
    if verdict == INFO:
        return {"message": visible(f"The document is silent: {row['evidence']}")}
    if verdict == SKIP:
        return {"message": visible(row["evidence"])}
    return {}


def _description(row: Mapping[str, Any]) -> str:
    where = row.get("document_ref") or row.get("source") or "-"
    line = row.get("document_line")
    lines = [
        f"**Verdict: {row['verdict']}**",
        "",
        f"Document: {where}" + (f" (line {line})" if isinstance(line, int) else ""),
        "",
        visible(row["evidence"]),
    ]
    if row.get("waiver"):
        waiver = row["waiver"]
        lines += [
            "",
            f"Waiver: {visible(str(waiver.get('reason')))} (expires {waiver.get('expires') or 'never'})",
        ]
    observations = row.get("observations") or []
    if observations:
        lines += ["", "Where the document is silent:", *(f"- {visible(o['sentence'])}" for o in observations)]
    return "\n".join(lines)


def _steps(row: Mapping[str, Any], writer: _Writer) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for entry in row.get("tests") or []:
        test, outcome = str(entry["test"]), str(entry["outcome"])
        status = step_status(row["verdict"], outcome)
        label = {
            "violated": "broke it",
            "checked": "showed it held",
            "silent": "met a silence of the document",
        }
        step: dict[str, Any] = {
            "name": f"{test}: {label.get(outcome, outcome)}"
            + (" (waived)" if row["verdict"] == WAIVED else ""),
            "status": status,
            "stage": "finished",
        }
        case = row.get("minimal_case") or {}
        if outcome == "violated" and case.get("test") == test and case.get("received"):
            step["statusDetails"] = {"message": visible(f"Received: {case['received']}")}
        steps.append(step)
    return steps


def _attachments(
    row: Mapping[str, Any], writer: _Writer, samples: list[dict[str, Any]]
) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    case = row.get("minimal_case") or {}
    if case.get("exchange"):
        text = _exchange_text(case["exchange"])
        found.append(writer.attach("minimal failing exchange (token masked)", text))
    if row.get("reproduction"):
        found.append(
            writer.attach("cURL reproduction (token from $EVS_TOKEN)", row["reproduction"], ext="sh")
        )
    observations = row.get("observations") or []
    if observations:
        lines: list[str] = []
        for observation in observations:
            lines.append(visible(observation["sentence"]))
            if observation.get("curl"):
                lines.append("  " + observation["curl"])
        found.append(writer.attach("where the document is silent", "\n".join(lines)))
    for number, entry in enumerate(samples, start=1):
        broke = row["id"] in entry.get(har_file.FIELD, {}).get("failed", ())
        name = f"exchange {number} ({'broke it' if broke else 'sample'}, {entry[har_file.FIELD]['test']})"
        found.append(writer.attach(name, _exchange_text(entry)))
    return found


def _exchange_text(entry: Mapping[str, Any]) -> str:

    try:
        return visible(render_exchange(exchange_from_entry(entry)))
    except ValueError:
        return visible(json.dumps(entry, ensure_ascii=False, indent=1))


def _parameters(row: Mapping[str, Any], profile: str) -> list[dict[str, str]]:
    parameters = [{"name": "profile", "value": profile}]
    case = row.get("minimal_case") or {}
    post = (case.get("exchange") or {}).get("request", {}).get("postData")
    if post is not None:
        body = str(post.get("text", ""))
        shown = body if post.get("encoding") != "base64" else f"base64:{body}"
        shown = visible(shown, keep_newlines=False)
        parameters.append(
            {"name": "minimal case body", "value": shown[:_SHOWN] + ("…" if len(shown) > _SHOWN else "")}
        )
    return parameters


def _links(row: Mapping[str, Any], page: str) -> list[dict[str, str]]:
    where = str(row.get("document_ref") or row.get("source") or "")
    line = row.get("document_line")
    if not where:
        return []
    if isinstance(line, int):
        return [{"type": "link", "name": f"{where} (line {line})", "url": f"{page}#L{line}"}]
    return [{"type": "link", "name": where, "url": f"{page}#{where.replace(' ', '%20')}"}]


def _samples(har: Path, report: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A few exchanges per requirement from the HAR file: those that broke it first, then samples."""
    wanted = {str(row["id"]) for row in report.get("requirements", [])}
    failing: dict[str, list[dict[str, Any]]] = {}
    plain: dict[str, list[dict[str, Any]]] = {}
    for entry in har_file.entries(har):
        served = entry.get(har_file.FIELD, {})
        for rid in served.get("requirements", ()):
            if rid not in wanted:
                continue
            bucket, limit = (
                (failing, _FAILED_SAMPLES) if rid in served.get("failed", ()) else (plain, _SAMPLES)
            )
            kept = bucket.setdefault(rid, [])
            if len(kept) < limit:
                kept.append(entry)
    return {rid: failing.get(rid, []) + plain.get(rid, []) for rid in wanted}


def _environment(report: Mapping[str, Any], writer: _Writer) -> None:
    target = report.get("target", {})
    values = {
        "verdict": report.get("verdict"),
        "profile": report.get("profile"),
        "operation": report.get("operation"),
        "target": target.get("base_url"),
        "started_at": report.get("started_at"),
    }
    lines = [f"{key}={visible(str(value), keep_newlines=False)}" for key, value in values.items() if value]
    (writer.directory / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if report.get("verdict") == INCOMPLETE or report.get("incomplete_reason"):
        reason = str(report.get("incomplete_reason") or "no reason given")
        stamp = _millis(report.get("finished_at"))
        error = {"message": visible(f"The run did not complete: {reason}"), "timestamp": stamp}
        writer.json(f"{uuid.uuid4()}-globals.json", {"attachments": [], "errors": [error]})


def render_exchange(exchange: Exchange) -> str:
    """The exchange as text: request line, headers and body, then the response (token already masked)."""
    request = exchange.request
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    if request.body is not None:
        lines += ["", _text(request.body)]
    lines.append("")
    response = exchange.response
    if response is None:
        lines.append(f"-- no response: {exchange.error}")
    else:
        lines.append(f"HTTP {response.status}" + (" (body truncated)" if response.truncated else ""))
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        lines += ["", _text(response.body)]
    lines += ["", f"-- {exchange.elapsed_s * 1000:.1f} ms", "", "Reproduce:", exchange.curl()]
    return "\n".join(lines)


def _text(body: bytes) -> str:
    shown = body[:_BODY_SHOWN].decode("utf-8", errors="backslashreplace")
    return shown + (f"\n… ({len(body)} bytes)" if len(body) > _BODY_SHOWN else "")
