"""Realistic defects of the independent server, each a small change to how it reads, shows or answers.

They are written against the independent server rather than the reference mock, so that catching them does
not depend on the mock's own way of being wrong. Each is a replacement of one of the server's functions.

Example::

    with deviation("wrapper-any-case"), serve_alt() as server:
        ...  # {"Snapshot": {...}} is now accepted
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import alt_backend, alt_server

_option = alt_backend._snapshot_option
_read = alt_backend.Backend._read
_view = alt_backend.Backend._view
_handle = alt_backend.Backend.handle
_dispatch = alt_server._Handler._dispatch


def _document(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def _shifted(stamp: str | None, by: timedelta) -> str | None:
    if stamp is None:
        return None
    return (datetime.strptime(stamp, alt_backend.TIME_FORMAT) + by).strftime(alt_backend.TIME_FORMAT)


# -- reading the body --------------------------------------------------------------------------------------
def _wrapper_fallback(body: bytes) -> Mapping[str, Any]:
    document = _document(body)
    if isinstance(document, dict) and "snapshot" not in document and "volume_id" in document:
        return document
    return _option(body)


def _wrapper_any_case(body: bytes) -> Mapping[str, Any]:
    document = _document(body)
    if isinstance(document, dict):
        for key, value in document.items():
            if key.lower() == "snapshot" and isinstance(value, dict):
                return value
    return _option(body)


def _fields_beside_wrapper(body: bytes) -> Mapping[str, Any]:
    option = _option(body)
    document = _document(body)
    return {**{k: v for k, v in document.items() if k != "snapshot"}, **option}


def _single_item_lists(body: bytes) -> Mapping[str, Any]:
    option = dict(_option(body))
    value = option.get("volume_id")
    if isinstance(value, list) and len(value) == 1:
        option["volume_id"] = value[0]
    return option


# -- showing a snapshot ------------------------------------------------------------------------------------
def _read_without_metadata(self: alt_backend.Backend, snapshot_id: str) -> dict[str, Any]:
    view = _read(self, snapshot_id)
    view["metadata"] = {}
    return view


def _read_in_whole_seconds(self: alt_backend.Backend, snapshot_id: str) -> dict[str, Any]:
    view = _read(self, snapshot_id)
    view["created_at"] = view["created_at"].partition(".")[0] + ".000000"
    return view


def _read_with_another_description(self: alt_backend.Backend, snapshot_id: str) -> dict[str, Any]:
    view = _read(self, snapshot_id)
    view["description"] = f"{view['description'] or ''} (copy)"
    return view


def _local_time(self: alt_backend.Backend, snapshot: alt_backend.Snapshot, *, settled: bool | None) -> Any:
    view = _view(self, snapshot, settled=settled)
    for key in ("created_at", "updated_at"):
        view[key] = _shifted(view[key], timedelta(hours=8))
    return view


def _updated_first(self: alt_backend.Backend, snapshot: alt_backend.Snapshot, *, settled: bool | None) -> Any:
    view = _view(self, snapshot, settled=settled)
    view["updated_at"] = _shifted(view["created_at"], -timedelta(milliseconds=300))
    return view


# -- answering ---------------------------------------------------------------------------------------------
def _deep_body_crashes(
    self: alt_backend.Backend, method: str, path: str, token: str | None, body: bytes
) -> alt_backend.Reply:
    if method == "POST":
        try:
            json.loads(body.decode("utf-8", "replace"))
        except RecursionError:
            return alt_backend.Reply(500, {"error": {"code": "EVS.9999", "message": "internal error"}})
        except ValueError:
            pass
    return _handle(self, method, path, token, body)


def _html_accept_crashes(handler: alt_server._Handler) -> None:
    accept = handler.headers.get("Accept", "")
    if handler.command == "POST" and accept and "json" not in accept and "*/*" not in accept:
        handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        handler._write(
            alt_backend.Reply(500, {"error": {"code": "EVS.9999", "message": "no renderer"}}), closing=False
        )
        return
    _dispatch(handler)


@dataclass(frozen=True)
class Deviation:
    """A defect: the function it replaces, the requirement it breaks, and those it may break besides."""

    owner: object
    attribute: str
    replacement: Callable[..., Any]
    breaks: str
    may_also_break: frozenset[str] = frozenset()


DEVIATIONS: Mapping[str, Deviation] = {
    "wrapper-fallback": Deviation(alt_backend, "_snapshot_option", _wrapper_fallback, "REQ-SNAPSHOT"),
    "wrapper-any-case": Deviation(alt_backend, "_snapshot_option", _wrapper_any_case, "REQ-SNAPSHOT"),
    "fields-beside-wrapper": Deviation(
        alt_backend, "_snapshot_option", _fields_beside_wrapper, "REQ-VOLUME-ID"
    ),
    # The 202 then shows the disk ID, not the array that was sent.
    "volume-id-list-unwrapped": Deviation(
        alt_backend, "_snapshot_option", _single_item_lists, "REQ-VOLUME-ID", frozenset({"RSP-ECHO"})
    ),
    "read-drops-metadata": Deviation(alt_backend.Backend, "_read", _read_without_metadata, "LIFE-READ"),
    "read-whole-seconds": Deviation(alt_backend.Backend, "_read", _read_in_whole_seconds, "LIFE-READ"),
    "read-other-description": Deviation(
        alt_backend.Backend, "_read", _read_with_another_description, "LIFE-READ"
    ),
    "local-time-as-utc": Deviation(alt_backend.Backend, "_view", _local_time, "RSP-TIME-FORMAT"),
    "updated-before-created": Deviation(alt_backend.Backend, "_view", _updated_first, "RSP-TIME-FORMAT"),
    # The 500 is not the documented refusal of the deep bodies either.
    "500-on-deep-nesting": Deviation(
        alt_backend.Backend,
        "handle",
        _deep_body_crashes,
        "RSP-NO-5XX",
        frozenset({"REQ-SNAPSHOT", "REQ-METADATA"}),
    ),
    "500-on-html-accept": Deviation(alt_server._Handler, "_dispatch", _html_accept_crashes, "RSP-NO-5XX"),
}


@contextmanager
def deviation(name: str) -> Iterator[Deviation]:
    """The independent server with the defect ``name`` for the duration of a ``with`` block."""
    chosen = DEVIATIONS[name]
    original = getattr(chosen.owner, chosen.attribute)
    setattr(chosen.owner, chosen.attribute, chosen.replacement)
    try:
        yield chosen
    finally:
        setattr(chosen.owner, chosen.attribute, original)
