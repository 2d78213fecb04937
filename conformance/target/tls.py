"""TLS for every client of a run (the target's and the identity service's): verified unless told otherwise.

Example::

    httpx.HTTPTransport(verify=tls_verification(settings))
"""

from __future__ import annotations

import ssl

from conformance.core.errors import UsageError
from conformance.run.settings import TargetSettings


def tls_verification(settings: TargetSettings) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` should be for these settings; raises UsageError for an unusable CA bundle."""
    if settings.insecure:
        return False
    if settings.ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"cannot use the CA bundle {settings.ca_bundle}: {reason}") from exc
