"""Checks of what a user types: URLs, numbers, rates, tokens and paths, each refused with one line.

Every function takes the raw value and the name it came under (a flag, an environment variable, a key of
a config file), and returns the value to use or raises ``UsageError`` naming that source.

Example::

    number("30", flag="--timeout", minimum=0, allow_zero=False)   # 30.0
    number("nan", flag="--timeout")                                 # UsageError: --timeout 'nan' is not ...
"""

from __future__ import annotations

import math
import urllib.parse
from pathlib import Path

from conformance.errors import UsageError

_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))


def _shown(value: object) -> str:
    text = str(value)
    text = "".join(c if c not in _CONTROL else f"\\x{ord(c):02x}" for c in text)
    return repr(text if len(text) <= 80 else text[:79] + "…")


def number(
    value: object,
    *,
    flag: str,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_zero: bool = True,
    integer: bool = False,
) -> float | int:
    """A finite number within bounds (an integer when ``integer``); nan, inf and overflow are refused."""
    if isinstance(value, bool):
        raise UsageError(f"{flag} {_shown(value)} is not a number")
    if integer:
        try:
            result: float | int = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise UsageError(f"{flag} {_shown(value)} is not a whole number") from None
    else:
        try:
            result = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
        except (ValueError, OverflowError):
            raise UsageError(f"{flag} {_shown(value)} is not a number") from None
        if not math.isfinite(result):
            raise UsageError(f"{flag} {_shown(value)} is not a finite number")
    if minimum is not None and result < minimum:
        raise UsageError(f"{flag} {_shown(value)} must be {minimum:g} or more")
    if not allow_zero and result == 0:
        raise UsageError(f"{flag} {_shown(value)} must be more than 0")
    if maximum is not None and result > maximum:
        raise UsageError(f"{flag} {_shown(value)} must be at most {maximum:g}")
    return result


#: Slower than one request in 100 s would never finish a run; faster than 10,000/s is no limit at all.
_SLOWEST_RATE, _FASTEST_RATE = 0.01, 10_000.0


def rate_limit(text: object, *, flag: str = "--rate-limit") -> float:
    """Requests per second from ``"5/s"``, ``"5"`` or ``"0.5/s"``."""
    value = str(text).strip().removesuffix("/s").strip()
    try:
        rate = float(value)
    except (ValueError, OverflowError):
        raise UsageError(f"{flag} {_shown(text)} is not a rate such as 5/s") from None
    if not math.isfinite(rate) or not _SLOWEST_RATE <= rate <= _FASTEST_RATE:
        raise UsageError(f"{flag} {_shown(text)} must be between {_SLOWEST_RATE:g}/s and {_FASTEST_RATE:g}/s")
    return rate


def text(value: object, *, flag: str) -> str:
    """A non-empty single line of printable text (IDs, names)."""
    result = str(value)
    if not result.strip():
        raise UsageError(f"{flag} must not be empty")
    if any(c in _CONTROL for c in result):
        raise UsageError(f"{flag} {_shown(value)} holds control characters")
    return result


def base_url(value: object, *, flag: str = "--base-url") -> str:
    """An http:// or https:// URL with a host and no user-info, query or fragment."""
    url = text(value, flag=flag).strip()
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise UsageError(f"{flag} {_shown(_without_userinfo(url))} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{flag} {_shown(_without_userinfo(url))} must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"{flag} must not carry a user name or password (give credentials as options)")
    if not host:
        raise UsageError(f"{flag} {_shown(url)} has no host")
    try:
        host.encode("idna")
    except UnicodeError:
        raise UsageError(f"{flag} {_shown(url)} has a host name that is not valid") from None
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise UsageError(f"{flag} {_shown(url)} must not hold a query string or fragment")
    return url.rstrip("/")


def _without_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    return f"{scheme}://{netloc.rsplit('@', 1)[-1]}{slash}{path}"


def token(value: object, *, what: str) -> str:
    """A token as an HTTP header can carry it: printable ASCII, one line."""
    result = str(value)
    if not result:
        raise UsageError(f"{what} is empty")
    if not all(" " < c < "\x7f" for c in result):
        # The value itself is a secret: never shown.
        raise UsageError(f"{what} holds characters a header cannot carry (only printable ASCII)")
    return result


_SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))


def output_dir(value: object, *, flag: str) -> Path:
    """A folder the tool may create or write into: not the root, not a file, not a system tree."""
    path = Path(text(value, flag=flag)).expanduser()
    resolved = path.resolve()
    if resolved == Path(resolved.anchor):
        raise UsageError(f"{flag} {_shown(path)} is the root of the file system; choose a folder of its own")
    if any(resolved == tree or tree in resolved.parents for tree in _SYSTEM_TREES):
        raise UsageError(f"{flag} {_shown(path)} is inside a system folder; choose a folder of your own")
    if resolved.exists() and not resolved.is_dir():
        raise UsageError(f"{flag} {_shown(path)} exists and is not a folder")
    for parent in resolved.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{flag} {_shown(path)} lies under {_shown(parent)}, which is not a folder")
            break
    return path


def existing_file(value: object, *, flag: str) -> Path:
    """A readable regular file."""
    path = Path(text(value, flag=flag)).expanduser()
    if not path.is_file():
        raise UsageError(f"{flag} {_shown(path)}: no such file")
    return path
