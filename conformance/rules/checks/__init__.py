"""Small named checks: an exchange (or plain dicts) in, violations of the contract out; no HTTP here.

Example::

    outcome = check_create(exchange, CheckContext(contract, expectation, volume_size=10, seen_ids=set()))
    for v in outcome.violations:
        print(v.requirement, v.message)
"""

from __future__ import annotations

from conformance.rules.checks.body import (
    refusal_matches_envelope,
    source_at,
    summary_extra_fields,
    summary_matches_schema,
)
from conformance.rules.checks.create import ACCEPTED_CREATE, check_create
from conformance.rules.checks.echo import snapshot_echoes_request
from conformance.rules.checks.lifecycle import (
    check_deleted,
    check_read_back,
    check_settled,
    initial_status,
    read_back_matches,
    snapshot_has_settled,
)
from conformance.rules.checks.model import (
    AUTH_REFUSAL,
    FOREIGN_PROJECT_REFUSAL,
    CheckContext,
    Expectation,
    Outcome,
    Violation,
)
from conformance.rules.checks.robustness import check_no_server_error
from conformance.rules.checks.status import (
    content_type_is_json,
    no_server_error,
    status_is_documented,
    status_matches_expectation,
)
from conformance.rules.checks.summary import (
    CLOCK_TOLERANCE,
    AnswerTime,
    answer_time,
    id_is_fresh,
    size_equals_volume_size,
    status_is_snapshot_status,
    timestamps_are_utc,
    timestamps_are_utc_microseconds,
    updated_not_before_created,
)

__all__ = [
    "ACCEPTED_CREATE",
    "AUTH_REFUSAL",
    "CLOCK_TOLERANCE",
    "FOREIGN_PROJECT_REFUSAL",
    "AnswerTime",
    "CheckContext",
    "Expectation",
    "Outcome",
    "Violation",
    "answer_time",
    "check_create",
    "check_deleted",
    "check_no_server_error",
    "check_read_back",
    "check_settled",
    "content_type_is_json",
    "id_is_fresh",
    "initial_status",
    "no_server_error",
    "read_back_matches",
    "refusal_matches_envelope",
    "size_equals_volume_size",
    "snapshot_echoes_request",
    "snapshot_has_settled",
    "source_at",
    "status_is_documented",
    "status_is_snapshot_status",
    "status_matches_expectation",
    "summary_extra_fields",
    "summary_matches_schema",
    "timestamps_are_utc",
    "timestamps_are_utc_microseconds",
    "updated_not_before_created",
]
