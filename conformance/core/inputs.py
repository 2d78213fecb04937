"""Checking what a user gives the tool: each function returns the clean value or raises UsageError, one line.

The command line and the pytest plugin call these for their options, so a bad value gets the same message
whichever way it came in; docs/inputs.md lists the classes of input and the message each gets. A message
never echoes a token, and shows other input with control characters escaped (``conformance.core.display``).

Example::

    base_url("https://EVS.example/")                             # 'https://evs.example'
    number("30", flag="--timeout", minimum=0.001, maximum=86400, allow_zero=False)  # 30.0
    rate_limit("5/s")                                            # 5.0
    token(os.environ["EVS_TOKEN"], what="the token")
    output_dir("reports", flag="--reports")                      # Path('reports')
    text = input_file("waivers.yaml", what="the waiver file", max_bytes=256 * 1024)
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import stat
from pathlib import Path
from typing import Literal, overload

import httpx
import idna

from conformance.core.display import for_terminal, quoted
from conformance.core.errors import UsageError

#: Where no file of the tool's output may go: kernel and device file systems.
SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))
#: The most seconds, requests or other measure any number option takes when its own bound is not given.
DEFAULT_MAXIMUM = 1e9
#: Requests per second ``--rate-limit`` accepts: one every 100 seconds to ten thousand a second.
RATE_LIMIT_RANGE = (0.01, 10_000.0)
#: The longest token accepted; identity tokens run to a few kilobytes, this is far beyond any.
MAX_TOKEN_LENGTH = 65_536
_SHOWN = 80
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _shown(text: str) -> str:
    return quoted(text, limit=_SHOWN)


# -- URLs ---------------------------------------------------------------------------------------------------
def base_url(text: str, *, flag: str = "--base-url") -> str:
    """An http:// or https:// URL of a host, without user-info, query or fragment; normalised.

    The scheme and host are lower-cased (an international host name in its ASCII form), a default port is
    dropped and so is a trailing slash of the path.
    """
    if _CONTROL.search(text):
        raise UsageError(f"{flag} holds a control character or line break: {_shown(text)}")
    text = text.strip()
    if not text:
        raise UsageError(f"{flag} is empty")
    if any(char.isspace() for char in text):
        raise UsageError(f"{flag} holds a space: {_shown(text)}")
    scheme, _, rest = text.partition("://")
    if scheme.lower() not in ("http", "https") or not rest:
        raise UsageError(f"{flag} {_shown(_without_userinfo(text))} must be an http:// or https:// URL")
    if "?" in text or "#" in text:
        raise UsageError(
            f"{flag} {_shown(_without_userinfo(text))} must not have a query (?) or fragment (#)"
        )
    authority = rest.split("/", 1)[0]
    if "@" in authority:
        # The user-info could be a password: never echoed, and never taken (it would reach every report).
        raise UsageError(f"{flag} must not carry a user name or password (user@host); give the host only")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise UsageError(f"{flag} {_shown(text)} is not a valid URL ({for_terminal(str(exc))})") from None
    host = _host(url, flag=flag, text=text)
    port = url.port
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"{flag} {_shown(text)}: port {port} is out of range (1-65535)")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{url.scheme}://{netloc}{url.raw_path.decode('ascii').rstrip('/')}"


def _host(url: httpx.URL, *, flag: str, text: str) -> str:
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise UsageError(f"{flag} {_shown(text)} names no host")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UsageError(f"{flag} {_shown(text)}: {_shown(host)} is not an IPv6 address") from None
        return host
    name = host.removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(len(label) <= 63 and _LABEL.fullmatch(label) for label in labels):
        raise UsageError(f"{flag} {_shown(text)}: {_shown(host)} is not a valid host name")
    for label in labels:
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                raise UsageError(
                    f"{flag} {_shown(text)}: {_shown(label)} is not a valid international (IDNA) name"
                ) from None
    return host


def _without_userinfo(text: str) -> str:
    scheme, separator, rest = text.partition("://")
    authority, slash, path = rest.partition("/")
    return scheme + separator + authority.rsplit("@", 1)[-1] + slash + path


# -- numbers ------------------------------------------------------------------------------------------------
@overload
def number(
    value: str | float,
    *,
    flag: str,
    minimum: float | None = ...,
    maximum: float | None = ...,
    allow_zero: bool = ...,
    integer: Literal[True],
) -> int: ...
@overload
def number(
    value: str | float,
    *,
    flag: str,
    minimum: float | None = ...,
    maximum: float | None = ...,
    allow_zero: bool = ...,
    integer: Literal[False] = ...,
) -> float: ...
def number(
    value: str | float,
    *,
    flag: str,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_zero: bool = True,
    integer: bool = False,
) -> int | float:
    """A finite number (a whole one with ``integer``) within bounds; never negative unless ``minimum`` is.

    Without ``maximum`` the bound is ``DEFAULT_MAXIMUM`` (2**63 - 1 for whole numbers), so an absurd
    magnitude (``1e300`` seconds) is refused before it overflows a clock or a sleep.
    """
    shown = _shown(str(value))
    parsed = _parse_number(value, flag=flag, integer=integer, shown=shown)
    if isinstance(parsed, float) and not math.isfinite(parsed):
        raise UsageError(f"{flag} must be a finite number, got {shown}")
    low = 0 if minimum is None else minimum
    high = maximum if maximum is not None else (2**63 - 1 if integer else DEFAULT_MAXIMUM)
    if parsed < 0 and low >= 0:
        raise UsageError(f"{flag} must not be negative, got {shown}")
    if parsed == 0:
        if not allow_zero:
            raise UsageError(f"{flag} must be more than 0, got {shown}")
        if isinstance(value, str) and re.search(r"[1-9]", value.lower().split("e")[0]):
            # 1e-400 reads as 0.0: the user did not ask for zero.
            raise UsageError(f"{flag} is too small to be told from 0, got {shown}")
        if low <= 0:
            return parsed
    if parsed < low:
        raise UsageError(f"{flag} must be at least {low:g}, got {shown}")
    if parsed > high:
        raise UsageError(f"{flag} must be at most {high:g}, got {shown}")
    return parsed


def _parse_number(value: str | float, *, flag: str, integer: bool, shown: str) -> int | float:
    if isinstance(value, bool):
        raise UsageError(f"{flag} must be a number, got {shown}")
    if isinstance(value, int | float):
        if integer and isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise UsageError(f"{flag} must be a whole number, got {shown}")
            return int(value)
        return value if integer else float(value)
    text = value.strip()
    if not text.isascii() or not text:
        raise UsageError(f"{flag} must be a number, got {shown}")
    try:
        return int(text, 10) if integer else float(text)
    except ValueError:
        if re.fullmatch(r"[+-]?[0-9_]+", text):
            # int() refuses more than 4300 digits.
            raise UsageError(f"{flag} is far too large, got {shown}") from None
        kind = "a whole number" if integer else "a number"
        raise UsageError(f"{flag} must be {kind}, got {shown}") from None


def rate_limit(text: str, *, flag: str = "--rate-limit") -> float:
    """Requests per second from ``"5/s"`` or ``"5"`` (``"0.5/s"`` too), within ``RATE_LIMIT_RANGE``."""
    value = text.strip().removesuffix("/s").strip()
    low, high = RATE_LIMIT_RANGE
    try:
        return number(value, flag=flag, minimum=low, maximum=high, allow_zero=False)
    except UsageError as exc:
        raise UsageError(f"{exc} (a rate such as 5/s)") from None


# -- text -------------------------------------------------------------------------------------------------
def text(value: object, *, flag: str) -> str:
    """A non-empty single line without control characters (an ID, a name)."""
    result = str(value)
    if not result.strip():
        raise UsageError(f"{flag} is empty")
    if _CONTROL.search(result):
        raise UsageError(f"{flag} holds a control character or line break: {_shown(result)}")
    return result


# -- tokens -------------------------------------------------------------------------------------------------
def token(text: str, *, what: str) -> str:
    """A token that can go in an HTTP header: printable ASCII, no line break or control; outer blanks dropped.

    The message names ``what`` and the offending character's position, never the token.
    """
    value = text.strip()
    if not value:
        raise UsageError(f"{what} is empty")
    if len(value) > MAX_TOKEN_LENGTH:
        raise UsageError(f"{what} is {len(value)} characters long, more than the {MAX_TOKEN_LENGTH} accepted")
    for position, char in enumerate(value, start=1):
        if not " " <= char <= "~":
            kind = (
                "a line break"
                if char in "\r\n"
                else f"a control character (U+{ord(char):04X})"
                if _CONTROL.match(char)
                else f"a character outside ASCII (U+{ord(char):04X})"
            )
            raise UsageError(f"{what} holds {kind} at position {position}; a token must be printable ASCII")
    return value


# -- files and folders ------------------------------------------------------------------------------------
def output_dir(path: str | Path, *, flag: str = "--reports") -> Path:
    """A folder the tool may create or write into: not the root, a system folder, a file, or a symlink.

    Only the folder itself is checked (it may not exist yet); its parents may be links (``/tmp`` often is).
    """
    given = _path(path, flag=flag)
    shown = _shown(str(given))
    absolute = Path(os.path.abspath(given))
    resolved = absolute.resolve()
    if absolute == Path(absolute.anchor) or resolved == Path(resolved.anchor):
        raise UsageError(f"{flag} {shown} is the root of the file system; give a folder of its own")
    _refuse_system_folder(absolute, resolved, flag=flag, shown=shown)
    _refuse_file_parent(absolute, flag=flag, shown=shown)
    try:
        status = absolute.lstat()
    except FileNotFoundError:
        return given
    except OSError as exc:
        raise UsageError(f"{flag} {shown}: {exc.strerror or type(exc).__name__}") from None
    if stat.S_ISLNK(status.st_mode):
        raise UsageError(f"{flag} {shown} is a symbolic link; give the folder itself")
    if not stat.S_ISDIR(status.st_mode):
        raise UsageError(f"{flag} {shown} exists and is not a folder")
    return given


def output_file(path: str | Path, *, flag: str = "--output") -> Path:
    """A file the tool may write: in an existing folder, new or a regular file, not a link or a device."""
    given = _path(path, flag=flag)
    shown = _shown(str(given))
    absolute = Path(os.path.abspath(given))
    _refuse_system_folder(absolute, absolute.resolve(), flag=flag, shown=shown)
    _refuse_file_parent(absolute, flag=flag, shown=shown)
    if not absolute.parent.is_dir():
        raise UsageError(f"{flag} {shown}: the folder {_shown(str(absolute.parent))} does not exist")
    try:
        status = absolute.lstat()
    except FileNotFoundError:
        return given
    except OSError as exc:
        raise UsageError(f"{flag} {shown}: {exc.strerror or type(exc).__name__}") from None
    if stat.S_ISLNK(status.st_mode):
        raise UsageError(f"{flag} {shown} is a symbolic link; give the file itself")
    if stat.S_ISDIR(status.st_mode):
        raise UsageError(f"{flag} {shown} is a folder; give a file name")
    if not stat.S_ISREG(status.st_mode):
        raise UsageError(f"{flag} {shown} is not a regular file (a device or a pipe)")
    return given


def existing_file(path: str | Path, *, flag: str) -> Path:
    """A regular file that exists (a CA bundle, a waiver file), not a folder, a pipe or a device."""
    given = _path(path, flag=flag)
    try:
        status = given.stat()
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or type(exc).__name__
        raise UsageError(f"{flag} {_shown(str(given))}: {reason}") from None
    if not stat.S_ISREG(status.st_mode):
        raise UsageError(f"{flag} {_shown(str(given))}: not a regular file")
    return given


def input_file(path: str | Path, *, what: str, max_bytes: int) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``; pipes, devices and folders are refused.

    The file is opened without blocking, so a FIFO with no writer is refused instead of hanging the tool.
    """
    given = _path(path, flag=what)
    shown = _shown(str(given))
    try:
        descriptor = os.open(given, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        reason = (
            "it is a folder" if isinstance(exc, IsADirectoryError) else exc.strerror or type(exc).__name__
        )
        raise UsageError(f"cannot read {what} {shown}: {reason}") from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise UsageError(f"cannot read {what} {shown}: it is a folder")
        if not stat.S_ISREG(status.st_mode):
            raise UsageError(f"cannot read {what} {shown}: not a regular file (a device or a pipe)")
        if status.st_size > max_bytes:
            raise UsageError(f"{what} {shown} is {status.st_size} bytes, more than the {max_bytes} accepted")
        data = _read_at_most(descriptor, max_bytes + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {shown}: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(descriptor)
    if len(data) > max_bytes:
        raise UsageError(f"{what} {shown} is more than the {max_bytes} bytes accepted")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {shown} is not UTF-8 text (byte {exc.start + 1} is not)") from None


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _path(path: str | Path, *, flag: str) -> Path:
    text = str(path)
    if not text:
        raise UsageError(f"{flag} is empty")
    if "\x00" in text:
        raise UsageError(f"{flag} {_shown(text)} holds a NUL character")
    return Path(path)


def _refuse_system_folder(absolute: Path, resolved: Path, *, flag: str, shown: str) -> None:
    for folder in SYSTEM_FOLDERS:
        if absolute.is_relative_to(folder) or resolved.is_relative_to(folder):
            raise UsageError(f"{flag} {shown} is under {folder}, a system folder; give a folder of your own")


def _refuse_file_parent(absolute: Path, *, flag: str, shown: str) -> None:
    for parent in reversed(absolute.parents):
        try:
            status = parent.stat()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsageError(f"{flag} {shown}: {parent}: {exc.strerror or type(exc).__name__}") from None
        if not stat.S_ISDIR(status.st_mode):
            raise UsageError(f"{flag} {shown} is under {_shown(str(parent))}, which is a file, not a folder")
