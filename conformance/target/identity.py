"""The client a run asks the identity service for tokens with: TLS verified as the target's is.

Example::

    with identity_client(settings.target) as client:
        tokens = TokenSource.from_password(client, credentials)
"""

from __future__ import annotations

import httpx

from conformance.run.settings import TargetSettings
from conformance.target.tls import tls_verification


def identity_client(target: TargetSettings) -> httpx.Client:
    """A client for the identity service that verifies TLS as the target's client does."""
    # A redirect could carry the password elsewhere; the identity URL must be the final one.
    return httpx.Client(
        timeout=httpx.Timeout(target.timeout_s),
        verify=tls_verification(target),
        trust_env=False,
        follow_redirects=False,
    )
