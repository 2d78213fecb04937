"""One HTTP exchange as the suite saw it: the request as sent (secrets masked), the response or the failure.

Checks read exchanges and never touch the network; the target produces them; reports print them.

Example::

    exchange.response.status            # 202
    exchange.response.json()["snapshot"]
    print(exchange.curl())              # a runnable reproduction, the token left as $EVS_TOKEN
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON = Any

#: What a masked secret header value reads as in recorded requests.
MASK = "***"
#: The shell variable a reproduction reads the token from.
TOKEN_VARIABLE = "$EVS_TOKEN"


@dataclass(frozen=True)
class SentRequest:
    """The request as it went on the wire; secret header values are already masked."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    json_body: JSON | None = None
    has_json_body: bool = False


@dataclass(frozen=True)
class Received:
    """The response as read, its body capped at the target's size limit."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False

    def json(self) -> JSON:
        """The parsed body; raises ValueError when it is not JSON (or was cut short)."""
        if self.truncated:
            raise ValueError(f"body truncated at {len(self.body)} bytes")
        try:
            return json.loads(self.body.decode("utf-8"))
        except RecursionError:
            # Nesting deeper than the parser's stack is no JSON a reader can use, whatever the grammar says.
            raise ValueError("JSON nested too deeply to read") from None

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case ("" when absent)."""
        value = self.headers.get("content-type", "")
        return value.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Exchange:
    """A request and what came back: a response, or a one-line transport error (never both)."""

    request: SentRequest
    response: Received | None
    error: str | None = None
    elapsed_s: float = 0.0
    #: How often the request went out (repeats after a 429, a connection error or a renewed token).
    attempts: int = 1
    #: When the answer was read, in POSIX seconds by the client's clock (None: not recorded, or no answer);
    #: what a time the target wrote is compared with when the answer carries no ``Date`` header.
    received_at: float | None = None

    def curl(self) -> str:
        """A runnable cURL command that repeats the request, the token read from $EVS_TOKEN."""
        parts = ["curl", "-i", "-X", self.request.method, shlex.quote(self.request.url)]
        for name, value in self.request.headers.items():
            if name.lower() in _TRANSPORT_HEADERS:
                continue
            if value == MASK:
                # Double quotes so the shell expands the variable.
                parts += ["-H", f'"{name}: {TOKEN_VARIABLE}"']
            else:
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        if not any(name.lower() == "accept" for name in self.request.headers):
            # curl would otherwise send Accept: */*; the request went without one.
            parts += ["-H", "'Accept:'"]
        body = self.request.body
        if body is None:
            return " ".join(parts)
        if not any(name.lower() == "content-type" for name in self.request.headers):
            # curl would otherwise label the body as a form; the request sent none.
            parts += ["-H", "'Content-Type:'"]
        if _is_plain_text(body):
            return " ".join([*parts, "--data-binary", shlex.quote(body.decode("utf-8"))])
        # Bytes a shell word cannot hold (NUL, invalid UTF-8) are piped in through printf escapes.
        escaped = "".join(f"\\x{b:02x}" for b in body)
        return f"printf '{escaped}' | " + " ".join([*parts, "--data-binary", "@-"])

    def describe(self) -> str:
        """One line: method, path, and the status or the transport error."""
        outcome = str(self.error) if self.response is None else str(self.response.status)
        if self.response is not None and self.response.truncated:
            outcome += f" (body cut at {len(self.response.body)} bytes)"
        if self.attempts > 1:
            outcome += f" (after {self.attempts} attempts)"
        return f"{self.request.method} {self.request.url} -> {outcome}"


# Headers that curl computes itself; repeating them would only make the reproduction brittle.
_TRANSPORT_HEADERS = frozenset({"content-length", "host", "connection", "accept-encoding", "user-agent"})


def _is_plain_text(body: bytes) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text
