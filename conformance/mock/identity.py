"""The mock's identity service, with no HTTP: users and passwords, seeded and issued tokens, their lifetimes.

It behaves as a Keystone v3 password authentication scoped to one project: a token is bound to a project,
an issued token lasts its lifetime (a day unless told), a seeded token (the ``--token`` of a run) never
expires. Lifetimes are in the cloud's seconds and pass through the mock's time scale.

Example::

    identity = Identity()
    identity.add_user("u", "pw", "p1")
    token, body = identity.issue_token("u", "pw", "p1")
    identity.authenticate("p1", token, deviations)      # passes; a stranger's token gets 401 or 403
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from conformance.mock.clock import Clock, TimeScale, stamp, utc_now
from conformance.mock.hooks import Deviations, Rule
from conformance.mock.limits import check_seconds
from conformance.mock.refusals import ServiceError, clip

JSON = Any
#: Keystone's default token lifetime.
DEFAULT_TOKEN_LIFETIME = timedelta(hours=24)


class Identity:
    """Users, tokens and lifetimes; every public method is safe to call from any thread."""

    def __init__(self, *, clock: Clock = utc_now, time_scale: TimeScale | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.time_scale = time_scale if time_scale is not None else TimeScale()
        self._tokens: dict[str, str] = {}
        self._seeded: set[str] = set()
        #: When each issued token stops being accepted; seeded tokens never expire.
        self._expiry: dict[str, datetime] = {}
        self._issued: list[str] = []
        self._users: dict[str, tuple[str, str]] = {}
        self._token_ttl_s: float | None = None
        self.reset(seed=seed)

    @property
    def token_ttl_s(self) -> float | None:
        """Seconds an issued token stays valid, in the cloud's time (None: a day, as Keystone's default)."""
        return self._token_ttl_s

    @token_ttl_s.setter
    def token_ttl_s(self, seconds: float | None) -> None:
        self._token_ttl_s = (
            None if seconds is None else check_seconds("token lifetime", seconds, positive=True)
        )

    @property
    def issued_tokens(self) -> tuple[str, ...]:
        """Every token issued since the last reset, oldest first."""
        with self._lock:
            return tuple(self._issued)

    def reset(self, *, seed: int) -> None:
        """Forget every issued token and restart the token source from ``seed``; seeded tokens stay."""
        with self._lock:
            self._source = random.Random(f"tokens-{seed}")
            self._tokens = {t: p for t, p in self._tokens.items() if t in self._seeded}
            self._expiry.clear()
            self._issued.clear()

    def add_token(self, token: str, project_id: str) -> None:
        """Seed a token bound to a project; it survives ``reset`` and never expires."""
        with self._lock:
            self._tokens[token] = project_id
            self._seeded.add(token)

    def add_user(self, name: str, password: str, project_id: str) -> None:
        """Seed a user who may get tokens scoped to ``project_id``."""
        with self._lock:
            self._users[name] = (password, project_id)

    def expire_tokens(self) -> int:
        """Revoke every token issued so far, as if each expired now (seeded ones stay); returns how many."""
        with self._lock:
            revoked = [token for token in self._expiry if token in self._tokens]
            for token in revoked:
                del self._tokens[token]
            return len(revoked)

    def authenticate(self, project_id: str, token: str | None, deviations: Deviations) -> None:
        """Check that ``token`` may act on ``project_id``: 401 without a valid token, 403 for another."""
        with self._lock:
            if not token:
                if deviations.on(Rule.ACCEPT_MISSING_TOKEN):
                    return
                raise ServiceError("unauthenticated", HTTPStatus.UNAUTHORIZED, "no token was sent")
            owner = self._tokens.get(token)
            expiry = self._expiry.get(token)
            if owner is None or (expiry is not None and self._clock() >= expiry):
                if deviations.on(Rule.ACCEPT_INVALID_TOKEN):
                    return
                problem = "is not valid" if owner is None else "has expired"
                raise ServiceError("unauthenticated", HTTPStatus.UNAUTHORIZED, f"the token {problem}")
            if owner != project_id and not deviations.on(Rule.ACCEPT_OTHER_PROJECT_TOKEN):
                raise ServiceError(
                    "forbidden", HTTPStatus.FORBIDDEN, f"the token may not act on project {clip(project_id)}"
                )

    def issue_token(self, user: str, password: str, project_id: str) -> tuple[str, dict[str, JSON]]:
        """A new token for a user's password, scoped to a project: the token and a Keystone v3 token body."""
        with self._lock:
            entry = self._users.get(user)
            if entry is None or entry[0] != password:
                raise ServiceError("unauthenticated", HTTPStatus.UNAUTHORIZED, "wrong user name or password")
            if entry[1] != project_id:
                raise ServiceError(
                    "unauthenticated", HTTPStatus.UNAUTHORIZED, f"the user has no role on {clip(project_id)}"
                )
            token = f"{self._source.getrandbits(256):064x}"
            self._tokens[token] = project_id
            issued = self._clock()
            ttl = self._token_ttl_s
            lifetime = self.time_scale.real(DEFAULT_TOKEN_LIFETIME.total_seconds() if ttl is None else ttl)
            expires = issued + lifetime
            self._expiry[token] = expires
            self._issued.append(token)
        body = {
            "methods": ["password"],
            "user": {"id": uuid.uuid5(uuid.NAMESPACE_URL, user).hex, "name": user},
            "project": {"id": project_id, "name": project_id},
            "roles": [{"name": "member"}],
            "issued_at": stamp(issued),
            "expires_at": stamp(expires),
        }
        return token, {"token": body}
