"""The values checks exchange: what was expected, what was broken, and what a single exchange proved."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from conformance.contract import JSON, Contract


@dataclass(frozen=True)
class Violation:
    """One rule of the document that a response broke, with the received and documented values."""

    requirement: str
    check: str
    message: str


@dataclass(frozen=True)
class Expectation:
    """The documented outcome of one request, as worked out by ``conformance.oracle``.

    ``refusal`` names the kind of refusal (``invalid-body``, ``unknown-volume``, ``null-volume-id``,
    ``volume-busy``; ``auth`` or ``foreign-project`` for a request refused for its credentials); ``None`` with
    ``"refuse"``
    means any 4xx answer is a refusal the document allows.
    """

    outcome: Literal["accept", "refuse", "either"]
    requirement: str
    refusal: str | None = None
    reason: str = ""


#: The refusal kind of requests sent without valid credentials (any 4xx refuses them).
AUTH_REFUSAL = "auth"
#: The refusal kind of a valid token used on a project it was not issued for: refused before the request is
#: processed, for authentication (401/403) or as a request naming the wrong project (an invalid request).
FOREIGN_PROJECT_REFUSAL = "foreign-project"


@dataclass(frozen=True)
class CheckContext:
    """What the checks of one exchange need beyond the exchange itself."""

    contract: Contract
    expectation: Expectation | None
    volume_size: int | None
    seen_ids: set[str]


@dataclass(frozen=True)
class Outcome:
    """What one exchange proved: requirements exercised, violations found, silences observed."""

    checked: frozenset[str]
    violations: tuple[Violation, ...]
    infos: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations

    def failed(self) -> frozenset[str]:
        """The requirements this exchange broke."""
        return frozenset(v.requirement for v in self.violations)


def violation(requirement: str, check: str, received: str, documented: str, source: str) -> Violation:
    """A violation whose message reads ``Received: ...`` / ``Documented: ... (source)``."""
    where = f" ({source})" if source else ""
    return Violation(requirement, check, f"Received: {received}\nDocumented: {documented}{where}")


def shown(value: object, limit: int = 200) -> str:
    """A JSON rendering of ``value`` short enough for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ContractView:
    """What the checks read from a contract on every exchange, resolved once per contract."""

    summary_key: str
    snapshot_key: str
    summary_schema: Mapping[str, JSON]
    summary_properties: Mapping[str, Mapping[str, JSON]]
    snapshot_statuses: tuple[str, ...]
    time_pattern: re.Pattern[str]
    body_schemas: Mapping[int, Mapping[str, JSON] | None]


@functools.lru_cache(maxsize=16)
def view(contract: Contract) -> ContractView:
    """The contract's response rules, looked up once: a Contract resolves its schemas again on each read."""
    summary = contract.summary_schema
    return ContractView(
        summary_key=contract.summary_key,
        snapshot_key=contract.snapshot_key,
        summary_schema=summary,
        summary_properties=summary.get("properties", {}),
        snapshot_statuses=contract.snapshot_statuses,
        time_pattern=re.compile(contract.time_pattern),
        body_schemas={status: contract.response_schema(status) for status in contract.documented_statuses},
    )
