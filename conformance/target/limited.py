"""Telling a limited cloud's refusals apart from refusals of the body: busy disks, snapshot limits, quotas.

A valid create refused because the disk still has a snapshot being made, because the disk or the project
already holds as many snapshots as allowed, or because a quota is used up, is an answer the page allows: the
target is right, and the run must not charge it. Such answers are recognised by their words (Huawei EVS and
OpenStack Cinder say what the limit is; Cinder's quota answer is a 413 ``overLimit``); the run re-sends the
body once its own snapshots are gone before it judges any refusal (``conformance.plugin.acceptance``).

Example::

    message = limit_refusal(exchange)   # "quota exceeded: ..." or None
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Final

from conformance.core.exchange import Exchange

#: Words only a refusal for capacity uses, lower-case: a snapshot count, a quota, a disk that is busy making
#: one. Words a refusal of the body may use ("limit", "maximum length", "too long") are not among them.
LIMIT_PHRASES: Final = (
    "quota",
    "overlimit",
    "snapshot limit",
    "limit of snapshots",
    "number of snapshots",
    "maximum number of snapshots",
    "too many snapshots",
    "being created",
    "is creating",
    "still creating",
    "in progress",
)
#: How much of a refusal's message is kept when it is quoted.
_QUOTED = 200


def limit_refusal(exchange: Exchange) -> str | None:
    """The refusal's message when its words (or a 413 ``overLimit`` envelope) say a limit refused it."""
    response = exchange.response
    if response is None or not HTTPStatus.BAD_REQUEST <= response.status < HTTPStatus.INTERNAL_SERVER_ERROR:
        return None
    text = response.body[:4096].decode("utf-8", "replace")
    lowered = text.lower()
    if not any(phrase in lowered for phrase in LIMIT_PHRASES):
        return None
    return _message(text)


def _message(text: str) -> str:
    """The ``message`` of an error envelope when there is one, else the body's start, on one line."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    found = None
    if isinstance(value, dict) and len(value) == 1:
        fault = next(iter(value.values()))
        if isinstance(fault, dict) and isinstance(fault.get("message"), str):
            found = fault["message"]
    shown = " ".join((found if found is not None else text).split())
    return shown if len(shown) <= _QUOTED else shown[: _QUOTED - 1] + "…"
