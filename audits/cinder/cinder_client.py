"""A minimal JSON client for one project of a Cinder v3 API, as the harness uses it to prepare the audit.

Example::

    client = CinderClient("http://127.0.0.1:8776", project_id, token)
    volume = client.expect(200, "GET", f"/volumes/{volume_id}")["volume"]
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class CinderApiError(Exception):
    """Cinder did not answer as the harness needs; the message holds the request and the answer."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


@dataclass(frozen=True)
class CinderClient:
    """Calls under ``/v3/{project_id}`` with the given token."""

    base_url: str
    project_id: str
    token: str
    timeout_s: float = 30.0

    def call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, microversion: str | None = None
    ) -> Answer:
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if microversion is not None:
            headers["OpenStack-API-Version"] = microversion
        url = f"{self.base_url}/v3/{self.project_id}{path}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return Answer(response.status, _json_or_none(response.read()))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, _json_or_none(exc.read()))
        except (urllib.error.URLError, OSError) as exc:
            raise CinderApiError(f"{method} {path}: {exc}") from exc

    def expect(
        self,
        status: int,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        microversion: str | None = None,
    ) -> Any:
        """The JSON body of the answer, which must have ``status``."""
        answer = self.call(method, path, body, microversion)
        if answer.status != status:
            raise CinderApiError(f"{method} {path} answered {answer.status} (wanted {status}): {answer.body}")
        return answer.body


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return raw.decode("utf-8", "replace")
