"""Password authentication against a Keystone v3-compatible identity service (Huawei IAM, OpenStack Keystone).

The token comes back in the ``X-Subject-Token`` header of ``POST {iam_url}/auth/tokens``. No message this
module produces ever holds the password or a token.

Example::

    credentials = PasswordCredentials(
        iam_url="https://iam.example/v3", username="qa", password=secret, domain="qa-domain",
        project_id="0a1b...",
    )
    tokens = TokenSource.from_password(client, credentials)
    headers = {"X-Auth-Token": tokens.token()}
    # the target answered 401 mid-run: fetch a fresh token, at most once
    fresh = tokens.renew(rejected=headers["X-Auth-Token"])
    safe = redact(log_text, tokens.secrets())
"""

from __future__ import annotations

import ipaddress
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from conformance.core import inputs
from conformance.core.errors import TargetError, UsageError
from conformance.core.redaction import redact

#: The response header that carries the issued token.
SUBJECT_TOKEN_HEADER = "X-Subject-Token"
_MESSAGE_EXCERPT = 200


class AuthError(TargetError):
    """The identity service could not be reached or would not issue a token."""


@dataclass(frozen=True)
class Token:
    """An issued token and when it expires (None when the service did not say)."""

    value: str = field(repr=False)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PasswordCredentials:
    """Everything needed to ask for a project-scoped token; give exactly one of project ID or name."""

    iam_url: str
    username: str
    password: str = field(repr=False)
    domain: str
    project_id: str | None = None
    project_name: str | None = None
    #: Send the password over plain HTTP to a host that is not loopback.
    allow_plain_http: bool = False

    def __post_init__(self) -> None:
        if (self.project_id is None) == (self.project_name is None):
            raise UsageError("give exactly one of a project ID or a project name for the token's scope")
        if not self.username or not self.domain:
            raise UsageError("password authentication needs a user name and a domain")
        _check_identity_url(self.iam_url, allow_plain_http=self.allow_plain_http)


def is_loopback(host: str) -> bool:
    """Whether a URL host is this machine: an address in 127.0.0.0/8, ``::1``, or the name ``localhost``.

    Decided by the address written, never by a name: ``*.localhost`` names (and ``localhost.`` with its
    trailing dot) go to a resolver that may answer with any address, so they count as other machines.
    ``localhost`` itself is kept because every system resolves it from its hosts file.
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is left out: it is written as another machine would be.
    return address.is_loopback and (address.version == 4 or address == ipaddress.IPv6Address("::1"))


def _check_identity_url(iam_url: str, *, allow_plain_http: bool) -> None:
    checked = inputs.base_url(iam_url, flag="the identity URL (--iam-url)")
    parsed = urllib.parse.urlsplit(checked)
    if parsed.scheme == "http" and not allow_plain_http and not is_loopback(parsed.hostname or ""):
        raise UsageError(
            f"refusing to send a password over plain HTTP to {parsed.hostname}; use https:// "
            "(or allow plain HTTP explicitly)"
        )


def _public_url(url: str) -> str:
    # Drop any user-info so a mistyped URL cannot echo a password back.
    parsed = urllib.parse.urlsplit(url)
    netloc = parsed.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, "", ""))


def token_request_body(
    *, username: str, password: str, domain: str, project_id: str | None, project_name: str | None
) -> dict[str, Any]:
    """The Keystone v3 password-method request, scoped to a project by ID or by name in ``domain``."""
    project: dict[str, Any] = (
        {"id": project_id} if project_id is not None else {"name": project_name, "domain": {"name": domain}}
    )
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": username, "password": password, "domain": {"name": domain}}},
            },
            "scope": {"project": project},
        }
    }


def fetch_token(
    client: httpx.Client,
    iam_url: str,
    *,
    username: str,
    password: str,
    domain: str,
    project_id: str | None = None,
    project_name: str | None = None,
    allow_plain_http: bool = False,
) -> Token:
    """Ask the identity service at ``iam_url`` (its v3 base) for a project-scoped token."""
    credentials = PasswordCredentials(
        iam_url=iam_url,
        username=username,
        password=password,
        domain=domain,
        project_id=project_id,
        project_name=project_name,
        allow_plain_http=allow_plain_http,
    )
    return _fetch(client, credentials)


def _fetch(client: httpx.Client, credentials: PasswordCredentials) -> Token:
    url = credentials.iam_url.rstrip("/") + "/auth/tokens"
    shown = _public_url(url)
    body = token_request_body(
        username=credentials.username,
        password=credentials.password,
        domain=credentials.domain,
        project_id=credentials.project_id,
        project_name=credentials.project_name,
    )
    secrets = (credentials.password,)
    try:
        # A redirect could carry the password elsewhere; the identity URL must be the final one.
        response = client.post(url, json=body, follow_redirects=False)
    except httpx.HTTPError as exc:
        detail = redact(_one_line(str(exc)) or type(exc).__name__, secrets)
        raise AuthError(f"cannot reach the identity service at {shown}: {detail}") from exc
    if response.is_redirect:
        location = _public_url(response.headers.get("location", "?"))
        raise AuthError(
            f"the identity service at {shown} redirected to {location}; not following it with a password "
            "(give the final URL with --iam-url)"
        )
    if not response.is_success:
        message = redact(_error_message(response), secrets)
        who = f"user {credentials.username!r} in domain {credentials.domain!r}"
        raise AuthError(
            f"the identity service at {shown} refused a token for {who}: "
            f"{response.status_code}{' ' + message if message else ''}"
        )
    value = response.headers.get(SUBJECT_TOKEN_HEADER, "").strip()
    if not value:
        raise AuthError(
            f"the identity service at {shown} answered {response.status_code} "
            f"without an {SUBJECT_TOKEN_HEADER} header"
        )
    try:
        # A token that cannot go back in a header (non-ASCII, a control) would fail every request later.
        value = inputs.token(value, what=f"the token the identity service at {shown} issued")
    except UsageError as exc:
        raise AuthError(str(exc)) from None
    return Token(value=value, expires_at=_expiry(response))


def _error_message(response: httpx.Response) -> str:
    # Keystone and IAM both wrap errors as {"error": {"message": ...}}; fall back to the raw text.
    try:
        data = response.json()
        message = data["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text
    return _one_line(str(message))[:_MESSAGE_EXCERPT]


def _expiry(response: httpx.Response) -> datetime | None:
    try:
        raw = response.json()["token"]["expires_at"]
        return datetime.fromisoformat(str(raw))
    except (ValueError, KeyError, TypeError):
        return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


class TokenSource:
    """Hands out the current token and, after a 401 from the target, a fresh one (``max_renewals`` times).

    A fixed token (``--token``) can never be renewed. Safe to share between threads.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        client: httpx.Client | None = None,
        credentials: PasswordCredentials | None = None,
        max_renewals: int = 1,
    ) -> None:
        if (token is None) == (credentials is None):
            raise UsageError("give either a token or password credentials, not both")
        if credentials is not None and client is None:
            raise UsageError("password credentials need an HTTP client for the identity service")
        if max_renewals < 0:
            raise UsageError("the number of token renewals must be zero or more")
        self._client = client
        self._credentials = credentials
        self._renewals_left = max_renewals if credentials is not None else 0
        self._current: Token | None = None if token is None else Token(value=token)
        self._issued: list[str] = [] if token is None else [token]
        self._lock = threading.Lock()

    @classmethod
    def from_token(cls, token: str) -> TokenSource:
        """A source for a token given by the user; it cannot be renewed."""
        return cls(token=inputs.token(token, what="the token"))

    @classmethod
    def from_password(
        cls, client: httpx.Client, credentials: PasswordCredentials, *, max_renewals: int = 1
    ) -> TokenSource:
        """A source that fetches its first token on demand and may renew it after a 401."""
        return cls(client=client, credentials=credentials, max_renewals=max_renewals)

    def token(self) -> str:
        """The token to send now, fetched from the identity service on first use."""
        with self._lock:
            if self._current is None:
                self._current = self._issue()
            return self._current.value

    @property
    def expires_at(self) -> datetime | None:
        """When the current token expires, when known."""
        return None if self._current is None else self._current.expires_at

    def renew(self, *, rejected: str) -> str | None:
        """A fresh token after ``rejected`` got a 401, or None when no renewal is possible (keep the 401).

        When another caller already replaced ``rejected``, its replacement is returned without a new fetch;
        a token this source never handed out is never renewed.
        """
        with self._lock:
            if rejected not in self._issued:
                # Not a token this source handed out (a deliberately invalid one): renewing cannot help.
                return None
            if self._current is not None and self._current.value != rejected:
                return self._current.value
            if self._renewals_left <= 0:
                return None
            self._renewals_left -= 1
            self._current = self._issue()
            return self._current.value

    def secrets(self) -> tuple[str, ...]:
        """Every value that must never be written anywhere: the password and every token handed out."""
        with self._lock:
            password = () if self._credentials is None else (self._credentials.password,)
            return (*password, *self._issued)

    def _issue(self) -> Token:
        if self._client is None or self._credentials is None:
            raise UsageError("a fixed token cannot be renewed")
        token = _fetch(self._client, self._credentials)
        self._issued.append(token.value)
        return token


__all__ = [
    "SUBJECT_TOKEN_HEADER",
    "AuthError",
    "PasswordCredentials",
    "Token",
    "TokenSource",
    "fetch_token",
    "is_loopback",
    "redact",
    "token_request_body",
]
