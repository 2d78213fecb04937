"""One exchange as a HAR 1.2 entry, secrets masked, and back: the one form a recorded exchange takes.

The HAR file of a run, the minimal failing case in ``conformance.json`` and the exchanges Allure shows are
all these entries, so a replay or a report reads the same fields whichever file it came from. Bodies are
text when they are UTF-8 (so masking applies to them) and base64 otherwise; fields HAR does not define start
with ``_`` as the format asks.

Example::

    entry = har_entry(exchange, redact=redactor, extra={"_evs": {"requirements": ["REQ-NAME"]}})
    again = exchange_from_entry(entry)      # the same request and response, secrets masked
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.core.exchange import Exchange, Received, SentRequest

HTTP_VERSION = "HTTP/1.1"
Redact = Callable[[str], str]


def _same(text: str) -> str:
    return text


def har_entry(
    exchange: Exchange,
    *,
    redact: Redact | None = None,
    started: datetime | None = None,
    body_limit: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The exchange as a HAR 1.2 entry; ``body_limit`` caps the response body kept (requests stay whole).

    ``started`` defaults to now less the exchange's duration (the entry is made when the answer arrives).
    """
    mask = redact or _same
    elapsed_ms = round(exchange.elapsed_s * 1000, 3)
    when = started or datetime.now(UTC) - timedelta(seconds=exchange.elapsed_s)
    entry: dict[str, Any] = {
        "startedDateTime": when.isoformat(),
        "time": elapsed_ms,
        "request": _request(exchange.request, mask),
        "response": _response(exchange, mask, body_limit),
        "cache": {},
        "timings": {"send": 0, "wait": elapsed_ms, "receive": 0},
    }
    if exchange.attempts != 1:
        entry["_attempts"] = exchange.attempts
    for key, value in (extra or {}).items():
        if not key.startswith("_"):
            raise ValueError(f"HAR custom fields start with '_': {key!r}")
        entry[key] = value
    return entry


def _request(request: SentRequest, mask: Redact) -> dict[str, Any]:
    url = mask(request.url)
    har: dict[str, Any] = {
        "method": request.method,
        "url": url,
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": _headers(request.headers, mask),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, True)],
        "headersSize": -1,
        "bodySize": 0 if request.body is None else len(request.body),
    }
    if request.body is not None:
        media = _header(request.headers, "content-type")
        har["postData"] = {"mimeType": media, **_body(request.body, mask)}
        if request.has_json_body:
            # Sent as a JSON document (not raw bytes): the echo checks compare the answer with it.
            har["postData"]["_json"] = True
    return har


def _response(exchange: Exchange, mask: Redact, body_limit: int | None) -> dict[str, Any]:
    received = exchange.response
    if received is None:
        # The HAR convention for a request that got no answer: status 0 and the reason beside it.
        return {
            "status": 0,
            "statusText": "",
            "httpVersion": HTTP_VERSION,
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": mask(exchange.error or "no response"),
        }
    body = received.body
    kept = body if body_limit is None else body[:body_limit]
    content: dict[str, Any] = {
        "size": len(body),
        "mimeType": received.headers.get("content-type", ""),
        **_body(kept, mask),
    }
    if len(kept) < len(body):
        content["comment"] = f"the first {len(kept)} of {len(body)} bytes"
    har: dict[str, Any] = {
        "status": received.status,
        "statusText": _phrase(received.status),
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": _headers(received.headers, mask),
        "content": content,
        "redirectURL": mask(received.headers.get("location", "")),
        "headersSize": -1,
        "bodySize": len(body),
    }
    if received.truncated:
        har["_truncated"] = True
    return har


def _headers(headers: Mapping[str, str], mask: Redact) -> list[dict[str, str]]:
    return [{"name": name, "value": mask(value)} for name, value in headers.items()]


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def _body(body: bytes, mask: Redact) -> dict[str, str]:
    try:
        return {"text": mask(body.decode("utf-8"))}
    except UnicodeDecodeError:
        pass
    # Latin-1 maps every byte to one character and back, so a secret inside binary bytes is masked too.
    masked = mask(body.decode("latin-1")).encode("latin-1", errors="replace")
    return {"text": base64.b64encode(masked).decode("ascii"), "encoding": "base64"}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def body_bytes(content: Mapping[str, Any] | None) -> bytes | None:
    """The bytes of a HAR ``postData`` or ``content`` (None when there is none)."""
    if content is None or "text" not in content:
        return None
    text = str(content["text"])
    if content.get("encoding") == "base64":
        return base64.b64decode(text)
    return text.encode("utf-8")


def exchange_from_entry(entry: Mapping[str, Any]) -> Exchange:
    """The exchange a HAR entry records; raises ValueError when ``entry`` is not one."""
    try:
        request, response = entry["request"], entry["response"]
        headers = {str(h["name"]): str(h["value"]) for h in request.get("headers", [])}
        post = request.get("postData")
        body = body_bytes(post)
        document, is_json = None, bool(post and post.get("_json")) and body is not None
        if is_json and body is not None:
            try:
                document = json.loads(body)
            except (ValueError, RecursionError):
                is_json = False
        sent = SentRequest(
            method=str(request["method"]),
            url=str(request["url"]),
            headers=headers,
            body=body,
            json_body=document,
            has_json_body=is_json,
        )
        received = None
        status = int(response["status"])
        if status:
            received = Received(
                status,
                {str(h["name"]): str(h["value"]) for h in response.get("headers", [])},
                body_bytes(response.get("content")) or b"",
                bool(response.get("_truncated")),
            )
        return Exchange(
            sent,
            received,
            None if received is not None else str(response.get("_error", "no response")),
            float(entry.get("time", 0)) / 1000,
            int(entry.get("_attempts", 1)),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a HAR entry: {exc}") from exc
