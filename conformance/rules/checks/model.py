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
    """One rule of the document that a response broke: what was received, what is documented, and where.

    Every report renders these fields; ``message`` is only their plain-text form.
    """

    requirement: str
    check: str
    received: str
    documented: str
    #: The document line the rule comes from (a schema's ``x-source``, e.g. ``Table 4 .../name``), or "".
    source: str = ""

    @property
    def message(self) -> str:
        """``Received: ...`` / ``Documented: ... (source)``, the form a failing test prints."""
        where = f" ({self.source})" if self.source else ""
        return f"Received: {self.received}\nDocumented: {self.documented}{where}"

    def as_dict(self) -> dict[str, str]:
        """The violation as JSON-ready data, its message included."""
        return {
            "requirement": self.requirement,
            "check": self.check,
            "received": self.received,
            "documented": self.documented,
            "source": self.source,
            "message": self.message,
        }


@dataclass(frozen=True)
class Expectation:
    """The documented outcome of one request, as worked out by ``conformance.rules.oracle``.

    ``refusal`` names the kind of refusal (``invalid-body``, ``unknown-volume``, ``null-volume-id``,
    ``volume-busy``; ``auth`` or ``foreign-project`` for a request refused for its credentials); ``None`` with
    ``"refuse"``
    means any 4xx answer is a refusal the document allows.
    """

    outcome: Literal["accept", "refuse", "either"]
    requirement: str
    refusal: str | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, str | None]:
        """The expectation as JSON-ready data (``from_dict`` reads it back)."""
        return {
            "outcome": self.outcome,
            "requirement": self.requirement,
            "refusal": self.refusal,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Expectation:
        """The expectation ``as_dict`` wrote; raises ValueError when ``data`` is not one."""
        outcome = data.get("outcome")
        requirement = data.get("requirement")
        refusal = data.get("refusal")
        if outcome not in ("accept", "refuse", "either") or not isinstance(requirement, str):
            raise ValueError(f"not an expectation: {data!r}")
        if refusal is not None and not isinstance(refusal, str):
            raise ValueError(f"not a refusal kind: {refusal!r}")
        return cls(outcome, requirement, refusal, str(data.get("reason") or ""))


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
class Criteria:
    """What ``check_create`` judged an exchange against, so the same judgement can be made again later."""

    expectation: Expectation | None
    volume_size: int | None


@dataclass(frozen=True)
class Outcome:
    """What one exchange proved: requirements exercised, violations found, silences observed."""

    checked: frozenset[str]
    violations: tuple[Violation, ...]
    infos: tuple[tuple[str, str], ...] = ()
    #: Set by ``check_create``: the expectation and disk size used, None for other checks.
    criteria: Criteria | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    def failed(self) -> frozenset[str]:
        """The requirements this exchange broke."""
        return frozenset(v.requirement for v in self.violations)


def violation(requirement: str, check: str, received: str, documented: str, source: str) -> Violation:
    """A violation whose message reads ``Received: ...`` / ``Documented: ... (source)``."""
    return Violation(requirement, check, received, documented, source)


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
