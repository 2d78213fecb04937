"""Replaying a run's failures: each minimal reproduction sent again and judged by the same checks.

A failure of the create checks recorded its request (secrets masked), the expectation the oracle gave it and
the disk size it was judged with (``minimal_case`` in ``conformance.json``). A replay sends that request once
more, with a token given now (never one from a file), judges the answer with ``check_create`` and says
``still fails``, ``fixed`` or ``cannot replay`` (with why). Failures of other checks (the lifecycle, a test
that could not run) need a full run and are named as such.

Example::

    with ReplayTarget(contract, settings) as target:
        for result in replay_report(report, target, contract):
            print(result.line())
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from conformance.contract import Contract
from conformance.core.exchange import MASK, Exchange
from conformance.core.recording import exchange_from_entry
from conformance.core.verdicts import FAIL, WAIVED
from conformance.report import har as har_file
from conformance.rules.checks import CheckContext, Expectation, check_create
from conformance.target import NO_BODY, Target

STILL_FAILS: Final = "still fails"
FIXED: Final = "fixed"
CANNOT: Final = "cannot replay"
# Headers the target adds to every request itself; the rest of a recorded request's headers are resent.
_OWN_HEADERS = frozenset(
    {"accept", "user-agent", "content-type", "content-length", "host", "connection", "accept-encoding"}
)


@dataclass(frozen=True)
class Reproduction:
    """A failure's recorded request, where it was sent, and what it was judged against."""

    requirement: str
    exchange: Exchange
    path: str
    expectation: Expectation | None
    volume_size: int | None
    seen_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Replayed:
    """What a requirement's reproduction shows now."""

    requirement: str
    outcome: str
    detail: str = ""
    exchange: Exchange | None = None

    def line(self) -> str:
        """``RSP-ECHO: still fails (Received: ...)``, on one line."""
        detail = " ".join(self.detail.split())
        return f"{self.requirement}: {self.outcome}" + (f" ({detail})" if detail else "")


def failing_rows(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The requirements a replay is about: those that failed, waived or not."""
    return [row for row in report.get("requirements", []) if row.get("verdict") in (FAIL, WAIVED)]


def reproductions(report: Mapping[str, Any], *, har: Path | None = None) -> list[Reproduction | Replayed]:
    """Each failure's reproduction, or why it cannot be replayed (a ``Replayed`` saying so)."""
    base = str(report.get("target", {}).get("base_url", "")).rstrip("/")
    found: list[Reproduction | Replayed] = []
    har_failures = _har_failures(har, {str(row["id"]) for row in failing_rows(report)}) if har else {}
    for row in failing_rows(report):
        rid = str(row["id"])
        case = row.get("minimal_case") or {}
        replay = case.get("replay")
        entry = case.get("exchange")
        if replay is None and entry is None and rid in har_failures:
            entry, replay = har_failures[rid], {"expectation": None, "volume_size": None}
        if replay is None:
            why = case.get("check") or case.get("test") or "a check the report does not name"
            found.append(
                Replayed(rid, CANNOT, f"judged by {why}, not by the create checks: it needs a full run")
            )
            continue
        if entry is None:
            found.append(Replayed(rid, CANNOT, "the report holds no recorded request for it"))
            continue
        try:
            exchange = exchange_from_entry(entry)
            expectation = (
                Expectation.from_dict(replay["expectation"])
                if replay.get("expectation") is not None
                else None
            )
        except ValueError as exc:
            found.append(Replayed(rid, CANNOT, f"the recorded case is unreadable: {exc}"))
            continue
        url = exchange.request.url
        if not base or not url.startswith(base):
            found.append(
                Replayed(rid, CANNOT, f"the recorded request went to {url}, not under {base or '?'}")
            )
            continue
        found.append(
            Reproduction(
                rid,
                exchange,
                url[len(base) :],
                expectation,
                replay.get("volume_size"),
                frozenset(replay.get("seen_ids") or ()),
            )
        )
    return found


def _har_failures(har: Path, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """The first HAR entry that broke each wanted requirement (for reports without a minimal case)."""
    found: dict[str, dict[str, Any]] = {}
    if not har.is_file():
        return found
    for entry in har_file.entries(har):
        for rid in entry.get(har_file.FIELD, {}).get("failed", ()):
            if rid in wanted and rid not in found:
                found[rid] = entry
    return found


def needs_token(reproduction: Reproduction, contract: Contract) -> bool:
    """Whether the request was sent with the run's own (masked) token."""
    header = contract.token_header.lower()
    return any(k.lower() == header and v == MASK for k, v in reproduction.exchange.request.headers.items())


def send(reproduction: Reproduction, target: Target) -> Exchange:
    """Send the recorded request again: same method, path, headers and body; the token given now."""
    request = reproduction.exchange.request
    header = target.contract.token_header.lower()
    headers = {k.lower(): v for k, v in request.headers.items()}
    token: dict[str, Any] = {}
    if header not in headers:
        token["token"] = None
    elif headers[header] != MASK:
        # A masked value was the run's token (sent as configured); any other was a deliberately wrong one.
        token["token"] = headers[header]
    extra = {k: v for k, v in headers.items() if k not in _OWN_HEADERS and k != header}
    raw = request.body
    content_type = headers.get("content-type") if raw is not None else None
    if request.method.upper() == "POST":
        # A create like any other: counted, journaled in memory, and deleted afterwards if one is made.
        return target.create(
            NO_BODY,
            raw=raw,
            content_type=content_type,
            headers=extra or None,
            path=reproduction.path,
            **token,
        )
    return target.request(
        request.method,
        reproduction.path,
        body=NO_BODY,
        raw=raw,
        content_type=content_type,
        headers=extra or None,
        **token,
    )


def judge(reproduction: Reproduction, exchange: Exchange, contract: Contract) -> Replayed:
    """What the new answer shows of the requirement, by the checks that failed it."""
    rid = reproduction.requirement
    if exchange.response is None and reproduction.exchange.response is not None:
        # The run got an answer; getting none now says nothing about the requirement.
        return Replayed(rid, CANNOT, f"no answer: {exchange.error}", exchange)
    if reproduction.exchange.request.has_json_body:
        # The echo checks compare the answer with the JSON document that was sent.
        exchange = Exchange(
            reproduction.exchange.request,
            exchange.response,
            exchange.error,
            exchange.elapsed_s,
            exchange.attempts,
        )
    context = CheckContext(
        contract, reproduction.expectation, reproduction.volume_size, set(reproduction.seen_ids)
    )
    outcome = check_create(exchange, context)
    broken = [v for v in outcome.violations if v.requirement == rid]
    if broken:
        return Replayed(rid, STILL_FAILS, broken[0].message, exchange)
    answer = exchange.describe().rsplit(" -> ", 1)[-1]
    if rid in outcome.checked:
        return Replayed(rid, FIXED, f"answered {answer}", exchange)
    return Replayed(rid, CANNOT, f"the answer ({answer}) no longer reaches the check of {rid}", exchange)


def replay_report(
    report: Mapping[str, Any],
    target: Target,
    contract: Contract,
    *,
    har: Path | None = None,
    have_token: bool = True,
) -> list[Replayed]:
    """Every failure of ``report`` replayed against ``target`` (one request each, nothing else sent)."""
    results: list[Replayed] = []
    for item in reproductions(report, har=har):
        if isinstance(item, Replayed):
            results.append(item)
        elif not have_token and needs_token(item, contract):
            results.append(Replayed(item.requirement, CANNOT, "it needs a token: give --token or $EVS_TOKEN"))
        else:
            results.append(judge(item, send(item, target), contract))
    return results


def still_failing(results: Iterable[Replayed]) -> bool:
    """Whether any reproduction still fails."""
    return any(result.outcome == STILL_FAILS for result in results)
