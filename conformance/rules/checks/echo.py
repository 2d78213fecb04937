"""The check that a 202 summary echoes what the request asked for."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.contract import JSON, Contract
from conformance.rules.checks.model import Violation, shown, view, violation

ECHOED_FIELDS = ("volume_id", "name", "description")
TRIMMED_FIELDS = frozenset({"name", "description"})


def _comparable(contract: Contract, field: str, value: JSON) -> JSON:
    if contract.trims_whitespace and field in TRIMMED_FIELDS and isinstance(value, str):
        return value.strip()
    return value


def snapshot_echoes_request(
    contract: Contract, sent: Mapping[str, JSON], summary: Mapping[str, JSON]
) -> list[Violation]:
    """``volume_id``, ``name`` and ``description`` come back as sent; ``metadata`` holds every sent pair."""
    found: list[Violation] = []
    props = view(contract).summary_properties
    trimmed = " (compared after trimming whitespace)" if contract.trims_whitespace else ""
    for field in ECHOED_FIELDS:
        if field not in sent or field not in summary:
            continue
        want = _comparable(contract, field, sent[field])
        got = _comparable(contract, field, summary[field])
        if want != got:
            found.append(
                violation(
                    "RSP-ECHO",
                    "snapshot_echoes_request",
                    f"{field} = {shown(summary[field])}",
                    f"{field} as sent, {shown(sent[field])}{trimmed}",
                    str(props.get(field, {}).get("x-source", "")),
                )
            )
    sent_meta, got_meta = sent.get("metadata"), summary.get("metadata")
    if isinstance(sent_meta, Mapping) and "metadata" in summary:
        held = got_meta if isinstance(got_meta, Mapping) else {}
        lost = {k: v for k, v in sent_meta.items() if k not in held or held[k] != v}
        if lost:
            found.append(
                violation(
                    "RSP-ECHO",
                    "snapshot_echoes_request",
                    f"metadata = {shown(got_meta)}",
                    f"metadata holding every sent pair; missing or changed: {shown(lost)}",
                    str(props.get("metadata", {}).get("x-source", "")),
                )
            )
    return found
