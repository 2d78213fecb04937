"""The catalogue of deliberate deviations: each quirk breaks one requirement of the catalogue on purpose.

A quirk is data (its name, the requirement it breaks, one line on what goes wrong). The mock applies it at
one of a few hook points, and where a quirk is a pure rewrite it is kept here as a small function:

* ``SCHEMA_PATCHES`` rewrite the request schema the backend validates with (limits, types, nullability);
* ``EVERY_VIEW``, ``CREATE_VIEW`` and ``READ_VIEW`` rewrite a rendered snapshot (every answer that shows a
  snapshot, only the 202 of a create, only reads and lists);
* the remaining quirks are consulted by name at the backend's rule points (volume lookup, busy rule, IDs,
  lifecycle, authentication, refusal status) and at the HTTP layer's (body parsing, accepted answer, error
  envelope, Content-Type).

Every quirk is deterministic so that a test can rely on the deviation it promises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from conformance.contract import Contract
from conformance.errors import UsageError

JSON = Any
#: ``intermittent-503`` fails every Nth create request (counting every POST that passes authentication).
INTERMITTENT_EVERY = 7
#: ``undocumented-status-code`` and ``malformed-json-422`` answer this status, which no profile documents.
UNDOCUMENTED_STATUS = 422
#: The status ``status-unknown-value`` reports; checked against the contract's enum when the quirk is enabled.
UNKNOWN_SNAPSHOT_STATUS = "pending"


def _always(_: Contract) -> bool:
    return True


def _error_code_type(contract: Contract) -> str:
    """The JSON type of ``code`` in the contract's envelope for an invalid body."""
    schema = contract.refusal("invalid-body").body_schema or {}
    (fault,) = schema["properties"].values()
    return str(fault["properties"]["code"]["type"])


@dataclass(frozen=True)
class Quirk:
    """One deliberate deviation: ``name`` says what is wrong, ``breaks`` is the requirement ID it violates."""

    name: str
    breaks: str
    summary: str
    applies: Callable[[Contract], bool] = _always

    def applies_to(self, contract: Contract) -> bool:
        """Whether this is a deviation in the profile (a 404 for an unknown disk is right for cinder)."""
        return self.applies(contract)


_CATALOGUE = (
    Quirk(
        "wrong-accepted-status",
        "OP-ACCEPT",
        "a valid create is answered 200 instead of the documented status",
    ),
    Quirk("accepted-empty-body", "OP-ACCEPT", "a valid create gets the documented status with an empty body"),
    Quirk("accepts-missing-token", "AUTH-MISSING", "requests without a token are served as the project's"),
    Quirk("accepts-invalid-token", "AUTH-INVALID", "any unknown token is served as the project's"),
    Quirk("accepts-other-project-token", "AUTH-INVALID", "a token of another project may act on this one"),
    Quirk(
        "snapshot-not-object-accepted",
        "REQ-SNAPSHOT",
        "a body whose snapshot is missing or not an object gets 202 (a snapshot of the project's first disk)",
    ),
    Quirk(
        "volume-id-integer-accepted",
        "REQ-VOLUME-ID",
        "an integer volume_id is accepted (the snapshot is of the project's first disk)",
    ),
    Quirk(
        "null-volume-id-404",
        "REQ-VOLUME-ID",
        "a null volume_id is refused as an unknown disk with 404",
        lambda c: c.refusal("null-volume-id").status != HTTPStatus.NOT_FOUND,
    ),
    Quirk(
        "null-volume-id-400",
        "REQ-VOLUME-ID",
        "a null volume_id is refused like an invalid body (400) instead of with the profile's status",
        lambda c: c.refusal("null-volume-id").status != c.refusal("invalid-body").status,
    ),
    Quirk(
        "unknown-volume-accepted",
        "REQ-VOLUME-EXISTS",
        "a volume_id naming no disk gets 202 (sized like the project's first disk)",
    ),
    Quirk(
        "unknown-volume-404",
        "REQ-VOLUME-EXISTS",
        "a volume_id naming no disk is refused with 404 instead of the profile's status",
        lambda c: c.refusal("unknown-volume").status != HTTPStatus.NOT_FOUND,
    ),
    Quirk(
        "unknown-volume-400",
        "REQ-VOLUME-EXISTS",
        "a volume_id naming no disk is refused like an invalid body (400), not with the profile's status",
        lambda c: c.refusal("unknown-volume").status != c.refusal("invalid-body").status,
    ),
    Quirk("name-limit-off-by-one-lenient", "REQ-NAME", "a name one character over the limit is accepted"),
    Quirk("name-limit-off-by-one-strict", "REQ-NAME", "a name of exactly the limit is refused"),
    Quirk(
        "name-counts-bytes", "REQ-NAME", "the name limit counts UTF-8 bytes, refusing long non-ASCII names"
    ),
    Quirk("name-empty-refused", "REQ-NAME", "an empty name is refused"),
    Quirk(
        "description-limit-off-by-one-lenient",
        "REQ-DESCRIPTION",
        "a description one character over the limit is accepted",
    ),
    Quirk(
        "description-limit-off-by-one-strict",
        "REQ-DESCRIPTION",
        "a description of exactly the limit is refused",
    ),
    Quirk(
        "description-counts-bytes",
        "REQ-DESCRIPTION",
        "the description limit counts UTF-8 bytes, refusing long non-ASCII descriptions",
    ),
    Quirk(
        "description-null-refused",
        "REQ-DESCRIPTION",
        "a null description is refused",
        lambda c: c.field("description").nullable,
    ),
    Quirk("force-coerces-strings", "REQ-FORCE-TYPE", "any string force is accepted (non-empty is true)"),
    Quirk("force-coerces-integers", "REQ-FORCE-TYPE", "a numeric force is accepted (non-zero is true)"),
    Quirk("force-default-true", "REQ-FORCE-DEFAULT", "an omitted force behaves as true"),
    Quirk("busy-volume-ignored", "REQ-FORCE-FALSE", "force false on an attaching or in-use disk is accepted"),
    Quirk("busy-volume-409", "REQ-FORCE-FALSE", "force false on a busy disk is refused with 409"),
    Quirk("force-true-refused", "REQ-FORCE-TRUE", "force true on a busy disk is refused like force false"),
    Quirk("metadata-non-string-accepted", "REQ-METADATA", "metadata values of any JSON type are accepted"),
    Quirk("metadata-not-object-accepted", "REQ-METADATA", "metadata that is not an object is accepted"),
    Quirk("malformed-json-422", "REQ-JSON", "a body that is not JSON, or is empty, is refused with 422"),
    Quirk(
        "json-trailing-garbage-accepted",
        "REQ-JSON",
        "a JSON value followed by other text is accepted (the text is ignored)",
    ),
    Quirk("missing-updated-at", "RSP-202-SCHEMA", "snapshots are shown without updated_at"),
    Quirk(
        "summary-not-wrapped", "RSP-202-SCHEMA", "the 202 body is the snapshot itself, not wrapped in its key"
    ),
    Quirk("created-at-with-zone", "RSP-TIME-FORMAT", "created_at carries a zone suffix (Z)"),
    Quirk("created-at-without-microseconds", "RSP-TIME-FORMAT", "created_at has no fraction of a second"),
    Quirk("size-zero", "RSP-SIZE", "size is 0"),
    Quirk("size-as-string", "RSP-SIZE", "size is a string of digits"),
    Quirk("size-in-mib", "RSP-SIZE", "size is in MiB, not GiB"),
    Quirk(
        "status-unknown-value",
        "RSP-STATUS",
        f"a new snapshot reports the status {UNKNOWN_SNAPSHOT_STATUS!r}",
        lambda c: UNKNOWN_SNAPSHOT_STATUS not in c.snapshot_statuses,
    ),
    Quirk("status-capitalised", "RSP-STATUS", "a new snapshot reports its status capitalised"),
    Quirk("echo-drops-metadata", "RSP-ECHO", "snapshots are shown with empty metadata"),
    Quirk(
        "echo-trims-name",
        "RSP-ECHO",
        "the name is shown with surrounding whitespace removed",
        lambda c: not c.trims_whitespace,
    ),
    Quirk("echo-volume-id-uppercased", "RSP-ECHO", "volume_id is shown upper-cased"),
    Quirk("reused-ids", "RSP-ID-UNIQUE", "every create after the first gets the first snapshot's id"),
    Quirk(
        "error-code-integer",
        "RSP-400-SCHEMA",
        "error codes are integers",
        lambda c: _error_code_type(c) != "integer",
    ),
    Quirk(
        "error-code-string",
        "RSP-400-SCHEMA",
        "error codes are strings",
        lambda c: _error_code_type(c) != "string",
    ),
    Quirk("error-envelope-flat", "RSP-400-SCHEMA", "errors are {code, message} with no wrapping key"),
    Quirk("error-message-missing", "RSP-400-SCHEMA", "errors carry a code but no message"),
    Quirk(
        "undocumented-status-code",
        "RSP-STATUS-CODES",
        f"a bad name is refused with {UNDOCUMENTED_STATUS} (undocumented) instead of the refusal status",
    ),
    Quirk("text-plain-content-type", "RSP-CONTENT-TYPE", "JSON bodies are labelled text/plain"),
    Quirk("error-html-content-type", "RSP-CONTENT-TYPE", "error bodies are labelled text/html"),
    Quirk("500-on-non-ascii", "RSP-NO-5XX", "a valid JSON body holding non-ASCII text gets 500"),
    Quirk("500-on-malformed-json", "RSP-NO-5XX", "a body that is not JSON gets 500"),
    Quirk("500-on-empty-body", "RSP-NO-5XX", "an empty body gets 500"),
    Quirk("intermittent-503", "RSP-NO-5XX", f"every {INTERMITTENT_EVERY}th create gets 503"),
    Quirk("read-back-differs", "LIFE-READ", "a snapshot read back shows a different name than the 202 did"),
    Quirk("read-back-404", "LIFE-READ", "a created snapshot cannot be read back (404)"),
    Quirk("never-settles", "LIFE-SETTLE", "snapshots stay creating for ever"),
    Quirk("cannot-delete", "LIFE-DELETE", "DELETE of a snapshot is refused"),
    Quirk("delete-leaves-snapshot", "LIFE-DELETE", "DELETE answers 202 but the snapshot stays"),
    Quirk("delete-wrong-status", "LIFE-DELETE", "DELETE answers 204 instead of 202"),
)

QUIRKS: Mapping[str, Quirk] = {q.name: q for q in _CATALOGUE}


def check_quirks(names: Iterable[str], contract: Contract) -> frozenset[str]:
    """The given quirk names as a set, after checking each exists and is a deviation for this profile."""
    chosen = frozenset(names)
    unknown = sorted(chosen - QUIRKS.keys())
    if unknown:
        raise UsageError(f"unknown quirk {', '.join(unknown)} (valid: {', '.join(sorted(QUIRKS))})")
    inapplicable = sorted(n for n in chosen if not QUIRKS[n].applies_to(contract))
    if inapplicable:
        raise UsageError(
            f"quirk {', '.join(inapplicable)} is not a deviation for the {contract.profile} profile"
        )
    return chosen


def applicable_quirks(contract: Contract) -> tuple[Quirk, ...]:
    """The quirks that break something for this profile, in catalogue order."""
    return tuple(q for q in _CATALOGUE if q.applies_to(contract))


# -- request schema rewrites -------------------------------------------------------------------------------
SchemaPatch = Callable[[dict[str, JSON], dict[str, JSON]], None]


def _widen_limit(field: str, by: int) -> SchemaPatch:
    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field]["maxLength"] += by

    return patch


def _also_type(field: str, extra: str) -> SchemaPatch:
    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field] = {"anyOf": [fields[field], {"type": extra}]}

    return patch


def _min_length(field: str) -> SchemaPatch:
    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field]["minLength"] = 1

    return patch


def _no_null(field: str) -> SchemaPatch:
    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        declared = fields[field]["type"]
        fields[field]["type"] = (
            [t for t in declared if t != "null"] if isinstance(declared, list) else declared
        )

    return patch


def _any_value(field: str) -> SchemaPatch:
    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field] = {}

    return patch


def _free_map_values(field: str) -> SchemaPatch:
    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field].pop("additionalProperties", None)

    return patch


def _any_snapshot(request: dict[str, JSON], _: dict[str, JSON]) -> None:
    request["required"] = []
    for key in request["properties"]:
        request["properties"][key] = {}


#: Each patch receives the whole request schema and the snapshot object's ``properties``, and edits them.
SCHEMA_PATCHES: Mapping[str, SchemaPatch] = {
    "name-limit-off-by-one-lenient": _widen_limit("name", 1),
    "name-limit-off-by-one-strict": _widen_limit("name", -1),
    "name-empty-refused": _min_length("name"),
    "description-limit-off-by-one-lenient": _widen_limit("description", 1),
    "description-limit-off-by-one-strict": _widen_limit("description", -1),
    "description-null-refused": _no_null("description"),
    "force-coerces-strings": _also_type("force", "string"),
    "force-coerces-integers": _also_type("force", "number"),
    "metadata-non-string-accepted": _free_map_values("metadata"),
    "metadata-not-object-accepted": _any_value("metadata"),
    "volume-id-integer-accepted": _also_type("volume_id", "integer"),
    "snapshot-not-object-accepted": _any_snapshot,
}

# -- rendered snapshot rewrites ----------------------------------------------------------------------------
ViewPatch = Callable[[dict[str, JSON]], None]


def _drop_updated_at(view: dict[str, JSON]) -> None:
    view.pop("updated_at", None)


def _zoned_created_at(view: dict[str, JSON]) -> None:
    view["created_at"] += "Z"


def _whole_second_created_at(view: dict[str, JSON]) -> None:
    view["created_at"] = view["created_at"].partition(".")[0]


def _size_zero(view: dict[str, JSON]) -> None:
    view["size"] = 0


def _size_string(view: dict[str, JSON]) -> None:
    view["size"] = str(view["size"])


def _size_mib(view: dict[str, JSON]) -> None:
    view["size"] *= 1024


def _unknown_status(view: dict[str, JSON]) -> None:
    view["status"] = UNKNOWN_SNAPSHOT_STATUS


def _capitalised_status(view: dict[str, JSON]) -> None:
    view["status"] = view["status"].capitalize()


def _empty_metadata(view: dict[str, JSON]) -> None:
    view["metadata"] = {}


def _trimmed_name(view: dict[str, JSON]) -> None:
    if isinstance(view["name"], str):
        view["name"] = view["name"].strip()


def _uppercased_volume_id(view: dict[str, JSON]) -> None:
    view["volume_id"] = str(view["volume_id"]).upper()


def _renamed(view: dict[str, JSON]) -> None:
    view["name"] = f"{view['name'] or ''}~read"


#: Applied to every answer that shows a snapshot (create, read, lists), so reads stay consistent with the 202.
EVERY_VIEW: Mapping[str, ViewPatch] = {
    "missing-updated-at": _drop_updated_at,
    "created-at-with-zone": _zoned_created_at,
    "created-at-without-microseconds": _whole_second_created_at,
    "size-zero": _size_zero,
    "size-as-string": _size_string,
    "size-in-mib": _size_mib,
    "echo-drops-metadata": _empty_metadata,
    "echo-trims-name": _trimmed_name,
    "echo-volume-id-uppercased": _uppercased_volume_id,
}
#: Applied to the 202 of a create only: a later read shows the real status, so the lifecycle still settles.
CREATE_VIEW: Mapping[str, ViewPatch] = {
    "status-unknown-value": _unknown_status,
    "status-capitalised": _capitalised_status,
}
#: Applied to reads and lists only.
READ_VIEW: Mapping[str, ViewPatch] = {
    "read-back-differs": _renamed,
}
