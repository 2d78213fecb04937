"""The points where a quirk may act, the hook records that name them, and what a set of quirks compiles to.

A quirk never is a name the rules look for: it is a record whose hooks say what it changes, and the rules
ask the compiled ``Deviations`` through typed constants:

* ``Rule`` switches are read by the snapshot rules and by identity (``models.py``, ``identity.py``);
* ``Behaviour`` switches by the HTTP layer (``app.py``): body parsing, accepted answer, envelope, labels;
* ``Answer`` points are statuses a quirk may replace (a refusal's, the accepted create's, the delete's);
* ``ViewScope`` says which rendered snapshots a view rewrite edits; schema rewrites edit the request schema;
  request rewrites change how the service reads a parsed create body (where it looks for the fields).

Hook records name their point by its string value, so a catalogue entry with a misspelt point can exist;
the catalogue refuses it when it loads (``catalogue.check_catalogue``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

JSON = Any
#: Receives the whole request schema and the snapshot object's ``properties``, and edits them.
SchemaPatch = Callable[[dict[str, JSON], dict[str, JSON]], None]
#: Edits one rendered snapshot in place.
ViewPatch = Callable[[dict[str, JSON]], None]
#: Receives a parsed create body and the key that wraps the snapshot object; returns the body the service
#: reads in its place.
RequestPatch = Callable[[JSON, str], JSON]


class Rule(StrEnum):
    """A switch of the service's rules (snapshots and identity)."""

    ACCEPT_MISSING_TOKEN = "accept-missing-token"
    ACCEPT_INVALID_TOKEN = "accept-invalid-token"
    ACCEPT_OTHER_PROJECT_TOKEN = "accept-other-project-token"
    ACCEPT_UNKNOWN_VOLUME = "accept-unknown-volume"
    COUNT_NAME_BYTES = "count-name-bytes"
    COUNT_DESCRIPTION_BYTES = "count-description-bytes"
    FORCE_BY_DEFAULT = "force-by-default"
    IGNORE_BUSY_VOLUME = "ignore-busy-volume"
    REFUSE_FORCED_BUSY_VOLUME = "refuse-forced-busy-volume"
    REUSE_FIRST_ID = "reuse-first-id"
    FAIL_EVERY_NTH_CREATE = "fail-every-nth-create"
    HIDE_SNAPSHOTS_FROM_READS = "hide-snapshots-from-reads"
    NEVER_SETTLE = "never-settle"
    REFUSE_EVERY_DELETE = "refuse-every-delete"
    KEEP_DELETED_SNAPSHOTS = "keep-deleted-snapshots"


class Behaviour(StrEnum):
    """A switch of the HTTP layer."""

    EMPTY_ACCEPTED_BODY = "empty-accepted-body"
    UNWRAPPED_SUMMARY = "unwrapped-summary"
    JSON_LABELLED_TEXT = "json-labelled-text"
    ERRORS_LABELLED_HTML = "errors-labelled-html"
    INTEGER_ERROR_CODES = "integer-error-codes"
    STRING_ERROR_CODES = "string-error-codes"
    FLAT_ERROR_ENVELOPE = "flat-error-envelope"
    NO_ERROR_MESSAGE = "no-error-message"
    CRASH_ON_EMPTY_BODY = "crash-on-empty-body"
    CRASH_ON_MALFORMED_BODY = "crash-on-malformed-body"
    CRASH_ON_NON_ASCII = "crash-on-non-ascii"
    CRASH_ON_DEEP_NESTING = "crash-on-deep-nesting"
    CRASH_ON_FOREIGN_ACCEPT = "crash-on-foreign-accept"
    IGNORE_TRAILING_TEXT = "ignore-trailing-text"


class Answer(StrEnum):
    """A status a quirk may replace: a refusal of a kind, or the status of an accepted request."""

    UNKNOWN_VOLUME = "unknown-volume"
    NULL_VOLUME_ID = "null-volume-id"
    VOLUME_BUSY = "volume-busy"
    INVALID_NAME = "invalid-name"
    MALFORMED_BODY = "malformed-body"
    ACCEPTED_CREATE = "accepted-create"
    ACCEPTED_DELETE = "accepted-delete"


class ViewScope(StrEnum):
    """Which rendered snapshots a view rewrite edits."""

    EVERY = "every"  # every answer that shows a snapshot, so reads stay consistent with the 202
    CREATE = "create"  # the 202 of a create only: a later read shows the truth
    READ = "read"  # reads and lists only


SWITCHES = frozenset(Rule) | frozenset(Behaviour)


@dataclass(frozen=True)
class Switch:
    """Turns on the rule or HTTP behaviour named ``name`` (a ``Rule`` or ``Behaviour`` value)."""

    name: str


@dataclass(frozen=True)
class Status:
    """Answers ``point`` (an ``Answer`` value) with ``status``: an HTTP status, or a refusal kind's status."""

    point: str
    status: int | str


@dataclass(frozen=True)
class SchemaRewrite:
    """Edits the request schema the service validates bodies with."""

    rewrite: SchemaPatch


@dataclass(frozen=True)
class ViewRewrite:
    """Edits the snapshots shown in ``scope`` (a ``ViewScope`` value)."""

    scope: str
    rewrite: ViewPatch


@dataclass(frozen=True)
class RequestRewrite:
    """Changes how the service reads a parsed create body, before it is validated."""

    rewrite: RequestPatch


Hook = Switch | Status | SchemaRewrite | ViewRewrite | RequestRewrite


@dataclass(frozen=True)
class Deviations:
    """What a set of quirks changes, compiled for one profile by ``catalogue.compile_quirks``."""

    names: frozenset[str]
    switches: frozenset[str]
    #: The status of every ``Answer`` point: the profile's own, or a chosen quirk's replacement.
    statuses: Mapping[str, int]
    schema_rewrites: tuple[SchemaPatch, ...]
    #: The request rewrites, in quirk-name order.
    request_rewrites: tuple[RequestPatch, ...]
    #: The rewrites of a create's 202 and of a read, each in quirk-name order.
    create_view: tuple[ViewPatch, ...]
    read_view: tuple[ViewPatch, ...]

    def on(self, switch: Rule | Behaviour) -> bool:
        """Whether a chosen quirk turns ``switch`` on."""
        return switch in self.switches

    def status(self, point: Answer) -> int:
        """The status to answer at ``point``."""
        return self.statuses[point]
