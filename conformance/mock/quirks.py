"""The catalogue of deliberate deviations: each quirk breaks one requirement of the catalogue on purpose.

Each quirk is a record of ``catalogue.Quirk``: its name, the requirement it breaks, one line on what goes
wrong, the profiles it is a deviation in, and its hooks (``hooks.py``): the rule or HTTP behaviour it
switches on, the status it replaces, the schema or view rewrite it makes (``rewrites.py``). The catalogue is
checked when this module loads (``catalogue.check_catalogue``); ``compile_deviations`` turns chosen quirk
names into the ``Deviations`` the service consults.

Every quirk is deterministic so that a test can rely on the deviation it promises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus

from conformance.contract import Contract
from conformance.core.errors import UsageError
from conformance.mock import rewrites
from conformance.mock.catalogue import (
    CatalogueError,
    Quirk,
    check_catalogue,
    compile_quirks,
    default_status,
)
from conformance.mock.hooks import (
    Answer,
    Behaviour,
    Deviations,
    RequestRewrite,
    Rule,
    SchemaRewrite,
    Status,
    Switch,
    ViewRewrite,
    ViewScope,
)
from conformance.mock.rewrites import LOCAL_UTC_OFFSET, UNKNOWN_SNAPSHOT_STATUS

__all__ = [
    "INTERMITTENT_EVERY",
    "QUIRKS",
    "UNDOCUMENTED_STATUS",
    "CatalogueError",
    "Quirk",
    "applicable_quirks",
    "check_catalogue",
    "check_quirks",
    "compile_deviations",
    "default_status",
]

#: ``intermittent-503`` fails every Nth create request (counting every POST that passes authentication).
INTERMITTENT_EVERY = 7
#: ``undocumented-status-code`` and ``malformed-json-422`` answer this status, which no profile documents.
UNDOCUMENTED_STATUS = 422
_INVALID_BODY = "invalid-body"


def _each(requirements: Iterable[str], why: str) -> dict[str, str]:
    """One reason for several requirements a quirk also breaks."""
    return dict.fromkeys(requirements, why)


def _error_code_type(contract: Contract) -> str:
    """The JSON type of ``code`` in the contract's envelope for an invalid body."""
    schema = contract.refusal(_INVALID_BODY).body_schema or {}
    (fault,) = schema["properties"].values()
    return str(fault["properties"]["code"]["type"])


_CATALOGUE = (
    Quirk(
        "wrong-accepted-status",
        "OP-ACCEPT",
        "a valid create is answered 200 instead of the documented status",
        (Status(Answer.ACCEPTED_CREATE, HTTPStatus.OK),),
        also_breaks={
            "RSP-STATUS-CODES": "200 is not among the documented codes",
            **_each(
                (
                    "REQ-NAME",
                    "REQ-DESCRIPTION",
                    "REQ-FORCE-TYPE",
                    "REQ-METADATA",
                    "REQ-VOLUME-EXISTS",
                    "REQ-FORCE-TRUE",
                ),
                "the accepted cases of this rule get 200 too, where it prescribes the documented status",
            ),
        },
    ),
    Quirk(
        "accepted-empty-body",
        "OP-ACCEPT",
        "a valid create gets the documented status with an empty body",
        (Switch(Behaviour.EMPTY_ACCEPTED_BODY),),
    ),
    Quirk(
        "accepts-missing-token",
        "AUTH-MISSING",
        "requests without a token are served as the project's",
        (Switch(Rule.ACCEPT_MISSING_TOKEN),),
        also_breaks={"AUTH-INVALID": "an empty token is taken for no token, so it is served as well"},
    ),
    Quirk(
        "accepts-invalid-token",
        "AUTH-INVALID",
        "any unknown token is served as the project's",
        (Switch(Rule.ACCEPT_INVALID_TOKEN),),
    ),
    Quirk(
        "accepts-other-project-token",
        "AUTH-INVALID",
        "a token of another project may act on this one",
        (Switch(Rule.ACCEPT_OTHER_PROJECT_TOKEN),),
        also_breaks={
            "RSP-STATUS-CODES": "the probe then acts on the other project, which has no such disk: 404"
        },
    ),
    Quirk(
        "snapshot-not-object-accepted",
        "REQ-SNAPSHOT",
        "a body whose snapshot is missing or not an object gets 202 (a snapshot of the project's first disk)",
        (SchemaRewrite(rewrites.any_snapshot),),
        also_breaks={
            **_each(
                ("REQ-VOLUME-ID", "REQ-NAME", "REQ-DESCRIPTION", "REQ-FORCE-TYPE", "REQ-METADATA"),
                "with the snapshot object free, its fields' own rules are gone too",
            ),
            "RSP-202-SCHEMA": "the 202 then shows field values of the wrong type",
            "RSP-ECHO": "a body with no string volume_id snapshots the first disk, whose ID is shown",
        },
    ),
    Quirk(
        "unwrapped-body-accepted",
        "REQ-SNAPSHOT",
        "a body without the snapshot key is read as the snapshot object itself",
        (RequestRewrite(rewrites.unwrapped_body),),
    ),
    Quirk(
        "wrapper-key-any-case",
        "REQ-SNAPSHOT",
        "the snapshot key is found whatever its letter case (Snapshot, SNAPSHOT)",
        (RequestRewrite(rewrites.wrapper_any_case),),
    ),
    Quirk(
        "fields-beside-wrapper-read",
        "REQ-VOLUME-ID",
        "fields beside the snapshot object fill in those it lacks, volume_id included",
        (RequestRewrite(rewrites.merged_top_level),),
    ),
    Quirk(
        "volume-id-array-unwrapped",
        "REQ-VOLUME-ID",
        "a volume_id given as an array of one ID is read as that ID",
        (RequestRewrite(rewrites.single_item_unwrapped("volume_id")),),
        also_breaks={"RSP-ECHO": "the 202 shows the ID, not the array that was sent"},
    ),
    Quirk(
        "volume-id-integer-accepted",
        "REQ-VOLUME-ID",
        "an integer volume_id is accepted (the snapshot is of the project's first disk)",
        (SchemaRewrite(rewrites.also_type("volume_id", "integer")),),
        also_breaks={"RSP-ECHO": "the 202 shows the first disk's ID, not the integer that was sent"},
    ),
    Quirk(
        "null-volume-id-404",
        "REQ-VOLUME-ID",
        "a null volume_id is refused as an unknown disk with 404",
        (Status(Answer.NULL_VOLUME_ID, HTTPStatus.NOT_FOUND),),
        lambda c: c.refusal("null-volume-id").status != HTTPStatus.NOT_FOUND,
        also_breaks={"RSP-STATUS-CODES": "404 is not among the documented codes"},
    ),
    Quirk(
        "null-volume-id-400",
        "REQ-VOLUME-ID",
        "a null volume_id is refused like an invalid body (400) instead of with the profile's status",
        (Status(Answer.NULL_VOLUME_ID, _INVALID_BODY),),
        lambda c: c.refusal("null-volume-id").status != c.refusal(_INVALID_BODY).status,
    ),
    Quirk(
        "unknown-volume-accepted",
        "REQ-VOLUME-EXISTS",
        "a volume_id naming no disk gets 202 (sized like the project's first disk)",
        (Switch(Rule.ACCEPT_UNKNOWN_VOLUME),),
    ),
    Quirk(
        "unknown-volume-404",
        "REQ-VOLUME-EXISTS",
        "a volume_id naming no disk is refused with 404 instead of the profile's status",
        (Status(Answer.UNKNOWN_VOLUME, HTTPStatus.NOT_FOUND),),
        lambda c: c.refusal("unknown-volume").status != HTTPStatus.NOT_FOUND,
        also_breaks={"RSP-STATUS-CODES": "404 is not among the documented codes"},
    ),
    Quirk(
        "unknown-volume-400",
        "REQ-VOLUME-EXISTS",
        "a volume_id naming no disk is refused like an invalid body (400), not with the profile's status",
        (Status(Answer.UNKNOWN_VOLUME, _INVALID_BODY),),
        lambda c: c.refusal("unknown-volume").status != c.refusal(_INVALID_BODY).status,
    ),
    Quirk(
        "name-limit-off-by-one-lenient",
        "REQ-NAME",
        "a name one character over the limit is accepted",
        (SchemaRewrite(rewrites.widen_limit("name", 1)),),
    ),
    Quirk(
        "name-limit-off-by-one-strict",
        "REQ-NAME",
        "a name of exactly the limit is refused",
        (SchemaRewrite(rewrites.widen_limit("name", -1)),),
    ),
    Quirk(
        "name-counts-bytes",
        "REQ-NAME",
        "the name limit counts UTF-8 bytes, refusing long non-ASCII names",
        (Switch(Rule.COUNT_NAME_BYTES),),
    ),
    Quirk(
        "name-empty-refused",
        "REQ-NAME",
        "an empty name is refused",
        (SchemaRewrite(rewrites.non_empty("name")),),
    ),
    Quirk(
        "description-limit-off-by-one-lenient",
        "REQ-DESCRIPTION",
        "a description one character over the limit is accepted",
        (SchemaRewrite(rewrites.widen_limit("description", 1)),),
    ),
    Quirk(
        "description-limit-off-by-one-strict",
        "REQ-DESCRIPTION",
        "a description of exactly the limit is refused",
        (SchemaRewrite(rewrites.widen_limit("description", -1)),),
    ),
    Quirk(
        "description-counts-bytes",
        "REQ-DESCRIPTION",
        "the description limit counts UTF-8 bytes, refusing long non-ASCII descriptions",
        (Switch(Rule.COUNT_DESCRIPTION_BYTES),),
    ),
    Quirk(
        "description-null-refused",
        "REQ-DESCRIPTION",
        "a null description is refused",
        (SchemaRewrite(rewrites.not_null("description")),),
        lambda c: c.field("description").nullable,
    ),
    Quirk(
        "force-coerces-strings",
        "REQ-FORCE-TYPE",
        "any string force is accepted (non-empty is true)",
        (SchemaRewrite(rewrites.also_type("force", "string")),),
    ),
    Quirk(
        "force-coerces-integers",
        "REQ-FORCE-TYPE",
        "a numeric force is accepted (non-zero is true)",
        (SchemaRewrite(rewrites.also_type("force", "number")),),
    ),
    Quirk(
        "force-default-true",
        "REQ-FORCE-DEFAULT",
        "an omitted force behaves as true",
        (Switch(Rule.FORCE_BY_DEFAULT),),
    ),
    Quirk(
        "busy-volume-ignored",
        "REQ-FORCE-FALSE",
        "force false on an attaching or in-use disk is accepted",
        (Switch(Rule.IGNORE_BUSY_VOLUME),),
        also_breaks={
            "REQ-FORCE-DEFAULT": "an omitted force means false, so it is ignored on a busy disk as well"
        },
    ),
    Quirk(
        "busy-volume-409",
        "REQ-FORCE-FALSE",
        "force false on a busy disk is refused with 409",
        (Status(Answer.VOLUME_BUSY, HTTPStatus.CONFLICT),),
        also_breaks={
            "REQ-FORCE-DEFAULT": "an omitted force means false, so it gets the 409 as well",
            "RSP-STATUS-CODES": "409 is not among the documented codes",
        },
    ),
    Quirk(
        "force-true-refused",
        "REQ-FORCE-TRUE",
        "force true on a busy disk is refused like force false",
        (Switch(Rule.REFUSE_FORCED_BUSY_VOLUME),),
    ),
    Quirk(
        "metadata-non-string-accepted",
        "REQ-METADATA",
        "metadata values of any JSON type are accepted",
        (SchemaRewrite(rewrites.free_map_values("metadata")),),
        also_breaks={"RSP-202-SCHEMA": "the 202 shows the non-string values it took"},
    ),
    Quirk(
        "metadata-not-object-accepted",
        "REQ-METADATA",
        "metadata that is not an object is accepted",
        (SchemaRewrite(rewrites.any_value("metadata")),),
        also_breaks={"RSP-202-SCHEMA": "any metadata is taken, non-string values included, and shown"},
    ),
    Quirk(
        "malformed-json-422",
        "REQ-JSON",
        "a body that is not JSON, or is empty, is refused with 422",
        (Status(Answer.MALFORMED_BODY, UNDOCUMENTED_STATUS),),
        also_breaks={"RSP-STATUS-CODES": f"{UNDOCUMENTED_STATUS} is not among the documented codes"},
    ),
    Quirk(
        "json-trailing-garbage-accepted",
        "REQ-JSON",
        "a JSON value followed by other text is accepted (the text is ignored)",
        (Switch(Behaviour.IGNORE_TRAILING_TEXT),),
    ),
    Quirk(
        "missing-updated-at",
        "RSP-202-SCHEMA",
        "snapshots are shown without updated_at",
        (ViewRewrite(ViewScope.EVERY, rewrites.drop_updated_at),),
    ),
    Quirk(
        "summary-not-wrapped",
        "RSP-202-SCHEMA",
        "the 202 body is the snapshot itself, not wrapped in its key",
        (Switch(Behaviour.UNWRAPPED_SUMMARY),),
    ),
    Quirk(
        "created-at-with-zone",
        "RSP-TIME-FORMAT",
        "created_at carries a zone suffix (Z)",
        (ViewRewrite(ViewScope.EVERY, rewrites.zoned_created_at),),
    ),
    Quirk(
        "local-time-as-utc",
        "RSP-TIME-FORMAT",
        f"times are written as a clock at UTC+{LOCAL_UTC_OFFSET.total_seconds() / 3600:g} shows them, "
        "in the UTC format",
        (ViewRewrite(ViewScope.EVERY, rewrites.local_time(LOCAL_UTC_OFFSET)),),
    ),
    Quirk(
        "updated-at-before-created-at",
        "RSP-TIME-FORMAT",
        "updated_at is stamped a moment before created_at",
        (ViewRewrite(ViewScope.EVERY, rewrites.updated_before_created),),
    ),
    Quirk(
        "created-at-without-microseconds",
        "RSP-TIME-FORMAT",
        "created_at has no fraction of a second",
        (ViewRewrite(ViewScope.EVERY, rewrites.whole_second_created_at),),
    ),
    Quirk("size-zero", "RSP-SIZE", "size is 0", (ViewRewrite(ViewScope.EVERY, rewrites.size_zero),)),
    Quirk(
        "size-as-string",
        "RSP-SIZE",
        "size is a string of digits",
        (ViewRewrite(ViewScope.EVERY, rewrites.size_string),),
    ),
    Quirk(
        "size-in-mib",
        "RSP-SIZE",
        "size is in MiB, not GiB",
        (ViewRewrite(ViewScope.EVERY, rewrites.size_mib),),
    ),
    Quirk(
        "status-unknown-value",
        "RSP-STATUS",
        f"a new snapshot reports the status {UNKNOWN_SNAPSHOT_STATUS!r}",
        (ViewRewrite(ViewScope.CREATE, rewrites.unknown_status),),
        lambda c: UNKNOWN_SNAPSHOT_STATUS not in c.snapshot_statuses,
    ),
    Quirk(
        "status-capitalised",
        "RSP-STATUS",
        "a new snapshot reports its status capitalised",
        (ViewRewrite(ViewScope.CREATE, rewrites.capitalised_status),),
    ),
    Quirk(
        "echo-drops-metadata",
        "RSP-ECHO",
        "snapshots are shown with empty metadata",
        (ViewRewrite(ViewScope.EVERY, rewrites.empty_metadata),),
    ),
    Quirk(
        "echo-trims-name",
        "RSP-ECHO",
        "the name is shown with surrounding whitespace removed",
        (ViewRewrite(ViewScope.EVERY, rewrites.trimmed_name),),
        lambda c: not c.trims_whitespace,
    ),
    Quirk(
        "echo-volume-id-uppercased",
        "RSP-ECHO",
        "volume_id is shown upper-cased",
        (ViewRewrite(ViewScope.EVERY, rewrites.uppercased_volume_id),),
    ),
    Quirk(
        "reused-ids",
        "RSP-ID-UNIQUE",
        "every create after the first gets the first snapshot's id",
        (Switch(Rule.REUSE_FIRST_ID),),
    ),
    Quirk(
        "error-code-integer",
        "RSP-400-SCHEMA",
        "error codes are integers",
        (Switch(Behaviour.INTEGER_ERROR_CODES),),
        lambda c: _error_code_type(c) != "integer",
    ),
    Quirk(
        "error-code-string",
        "RSP-400-SCHEMA",
        "error codes are strings",
        (Switch(Behaviour.STRING_ERROR_CODES),),
        lambda c: _error_code_type(c) != "string",
    ),
    Quirk(
        "error-envelope-flat",
        "RSP-400-SCHEMA",
        "errors are {code, message} with no wrapping key",
        (Switch(Behaviour.FLAT_ERROR_ENVELOPE),),
    ),
    Quirk(
        "error-message-missing",
        "RSP-400-SCHEMA",
        "errors carry a code but no message",
        (Switch(Behaviour.NO_ERROR_MESSAGE),),
    ),
    Quirk(
        "undocumented-status-code",
        "RSP-STATUS-CODES",
        f"a bad name is refused with {UNDOCUMENTED_STATUS} (undocumented) instead of the refusal status",
        (Status(Answer.INVALID_NAME, UNDOCUMENTED_STATUS),),
        also_breaks={"REQ-NAME": f"a bad name gets {UNDOCUMENTED_STATUS}, not the documented refusal"},
    ),
    Quirk(
        "text-plain-content-type",
        "RSP-CONTENT-TYPE",
        "JSON bodies are labelled text/plain",
        (Switch(Behaviour.JSON_LABELLED_TEXT),),
    ),
    Quirk(
        "error-html-content-type",
        "RSP-CONTENT-TYPE",
        "error bodies are labelled text/html",
        (Switch(Behaviour.ERRORS_LABELLED_HTML),),
    ),
    Quirk(
        "500-on-non-ascii",
        "RSP-NO-5XX",
        "a valid JSON body holding non-ASCII text gets 500",
        (Switch(Behaviour.CRASH_ON_NON_ASCII),),
        also_breaks=_each(
            ("REQ-NAME", "REQ-DESCRIPTION", "REQ-METADATA", "REQ-VOLUME-EXISTS"),
            "the cases of this rule holding non-ASCII text get 500, not the answer it prescribes (a planned"
            " body refused so is narrowed to the field that carries the text: the operation is not charged)",
        ),
    ),
    Quirk(
        "500-on-malformed-json",
        "RSP-NO-5XX",
        "a body that is not JSON gets 500",
        (Switch(Behaviour.CRASH_ON_MALFORMED_BODY),),
        also_breaks={"REQ-JSON": "a body that is not JSON gets 500, not the documented refusal"},
    ),
    Quirk(
        "500-on-empty-body",
        "RSP-NO-5XX",
        "an empty body gets 500",
        (Switch(Behaviour.CRASH_ON_EMPTY_BODY),),
        also_breaks={"REQ-JSON": "an empty body gets 500, not the documented refusal"},
    ),
    Quirk(
        "500-on-deep-nesting",
        "RSP-NO-5XX",
        "a body nested deeper than the parser's stack gets 500",
        (Switch(Behaviour.CRASH_ON_DEEP_NESTING),),
        also_breaks={
            "REQ-SNAPSHOT": "the deep array is no snapshot object, which the document refuses with 400",
            "REQ-METADATA": "the deep metadata value is no string, which the document refuses with 400",
        },
    ),
    Quirk(
        "500-on-non-json-accept",
        "RSP-NO-5XX",
        "a create whose Accept header admits no JSON gets 500",
        (Switch(Behaviour.CRASH_ON_FOREIGN_ACCEPT),),
    ),
    Quirk(
        "intermittent-503",
        "RSP-NO-5XX",
        f"every {INTERMITTENT_EVERY}th create gets 503",
        (Switch(Rule.FAIL_EVERY_NTH_CREATE),),
        also_breaks=_each(
            (
                "OP-ACCEPT",
                "REQ-SNAPSHOT",
                "REQ-VOLUME-ID",
                "REQ-NAME",
                "REQ-DESCRIPTION",
                "REQ-FORCE-TYPE",
                "REQ-FORCE-DEFAULT",
                "REQ-METADATA",
                "REQ-JSON",
            ),
            "a case of this rule is among those the 503 hits; which are depends on the order of the suite's "
            "creates, so adding a create elsewhere may move it",
        ),
    ),
    Quirk(
        "read-back-differs",
        "LIFE-READ",
        "a snapshot read back shows a different name than the 202 did",
        (ViewRewrite(ViewScope.READ, rewrites.renamed),),
    ),
    Quirk(
        "read-back-drops-metadata",
        "LIFE-READ",
        "a snapshot read back shows empty metadata where the 202 showed the pairs sent",
        (ViewRewrite(ViewScope.READ, rewrites.empty_metadata),),
    ),
    Quirk(
        "read-back-other-description",
        "LIFE-READ",
        "a snapshot read back shows another description than the 202 did",
        (ViewRewrite(ViewScope.READ, rewrites.other_description),),
    ),
    Quirk(
        "read-back-whole-second-created-at",
        "LIFE-READ",
        "a snapshot read back has created_at in whole seconds, as a store without fractions keeps it",
        (ViewRewrite(ViewScope.READ, rewrites.zeroed_microseconds_created_at),),
    ),
    Quirk(
        "read-back-404",
        "LIFE-READ",
        "a created snapshot cannot be read back (404)",
        (Switch(Rule.HIDE_SNAPSHOTS_FROM_READS),),
        also_breaks={"LIFE-SETTLE": "the wait for settling reads the snapshot too, and finds nothing"},
    ),
    Quirk(
        "never-settles",
        "LIFE-SETTLE",
        "snapshots stay creating for ever",
        (Switch(Rule.NEVER_SETTLE),),
    ),
    Quirk(
        "cannot-delete",
        "LIFE-DELETE",
        "DELETE of a snapshot is refused",
        (Switch(Rule.REFUSE_EVERY_DELETE),),
    ),
    Quirk(
        "delete-leaves-snapshot",
        "LIFE-DELETE",
        "DELETE answers 202 but the snapshot stays",
        (Switch(Rule.KEEP_DELETED_SNAPSHOTS),),
    ),
    Quirk(
        "delete-wrong-status",
        "LIFE-DELETE",
        "DELETE answers 204 instead of 202",
        (Status(Answer.ACCEPTED_DELETE, HTTPStatus.NO_CONTENT),),
    ),
)

QUIRKS: Mapping[str, Quirk] = check_catalogue(_CATALOGUE)


# -- choosing and compiling quirks -------------------------------------------------------------------------
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
    return tuple(q for q in QUIRKS.values() if q.applies_to(contract))


def compile_deviations(names: Iterable[str], contract: Contract) -> Deviations:
    """What the named quirks change in this profile, after ``check_quirks``."""
    chosen = check_quirks(names, contract)
    return compile_quirks((q for q in QUIRKS.values() if q.name in chosen), contract)
