"""Spelling a secret in the encodings a target or a writer may use, and finding it again in any of them.

Written apart from ``conformance.core.redaction`` on purpose: the tests judge the masking with these, so they
share no code with it.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import urllib.parse

_JSON_ESCAPE = re.compile(r'\\+(u[0-9a-fA-F]{4}|["\\/bfnrt])')
_SHORT = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "/": "/"}
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{4,}")


def json_u(char: str, *, upper: bool = False) -> str:
    """``char`` as JSON ``\\uXXXX`` escapes (a surrogate pair beyond the BMP)."""
    units = char.encode("utf-16-be")
    escaped = "".join(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2))
    return escaped.upper().replace("\\U", "\\u") if upper else escaped


def percent(char: str, *, upper: bool = True) -> str:
    """``char`` as percent-encoded UTF-8 bytes."""
    return "".join(f"%{byte:02X}" if upper else f"%{byte:02x}" for byte in char.encode("utf-8"))


def base64_in_stream(data: bytes, *, before: bytes = b"", after: bytes = b"", url: bool, pad: bool) -> str:
    """``before + data + after`` in base64 or base64url, with or without padding."""
    encoded = (base64.urlsafe_b64encode if url else base64.b64encode)(before + data + after).decode("ascii")
    return encoded if pad else encoded.rstrip("=")


def encodings(secret: str, *, user: str = "evs-user") -> dict[str, str]:
    """A fixed set of spellings of ``secret``: one of each kind the masking must find."""
    data = secret.encode("utf-8")
    pair = f"{user}:{secret}".encode()
    forms = {
        "raw": secret,
        "json-u-lower": "".join(json_u(c) for c in secret),
        "json-u-upper": "".join(json_u(c, upper=True) for c in secret),
        "json-u-mixed": "".join(json_u(c) if i % 2 else c for i, c in enumerate(secret)),
        "json-dumps": json.dumps(secret)[1:-1].replace("/", "\\/"),
        "json-dumps-ascii": json.dumps(secret, ensure_ascii=True)[1:-1],
        "percent-all-upper": "".join(percent(c) for c in secret),
        "percent-all-lower": "".join(percent(c, upper=False) for c in secret),
        "percent-some": "".join(percent(c) if i % 3 == 0 else c for i, c in enumerate(secret)),
        "percent-quote": urllib.parse.quote(secret, safe=""),
        "percent-quote-plus": urllib.parse.quote_plus(secret, safe=""),
        "base64": base64_in_stream(data, url=False, pad=True),
        "base64-unpadded": base64_in_stream(data, url=False, pad=False),
        "base64url": base64_in_stream(data, url=True, pad=True),
        "base64url-unpadded": base64_in_stream(data, url=True, pad=False),
        "base64-pair": base64_in_stream(pair, url=False, pad=True),
        "base64url-pair": base64_in_stream(pair, url=True, pad=False),
        "basic": "Basic " + base64_in_stream(pair, url=False, pad=True),
    }
    for offset in (1, 2):
        forms[f"base64-offset-{offset}"] = base64_in_stream(
            data, before=b"\x01" * offset, after=b"!", url=False, pad=True
        )
    return forms


def decodings(text: str) -> dict[str, str]:
    """``text`` read back in each encoding: JSON-unescaped, percent-decoded, entity-decoded, base64 runs."""
    read = {
        "as is": text,
        "json": _json_unescape(text),
        "percent": urllib.parse.unquote(
            urllib.parse.unquote(text, errors="surrogateescape"), errors="surrogateescape"
        ),
        "form": urllib.parse.unquote_plus(text, errors="surrogateescape"),
        "entities": html.unescape(text),
    }
    read["json+percent"] = urllib.parse.unquote(read["json"], errors="surrogateescape")
    for number, run in enumerate(_BASE64_RUN.findall(text)):
        for skip in range(4):
            read[f"base64 run {number} from {skip}"] = _decode_base64(run[skip:])
    return read


def leaks(text: str, secret: str) -> list[str]:
    """The readings of ``text`` in which ``secret`` can still be found (empty: none)."""
    return [name for name, reading in decodings(text).items() if secret in reading]


def _unquote(text: str) -> str:
    return urllib.parse.unquote(text, errors="surrogateescape")


def _json_unescape(text: str) -> str:
    def unescape(match: re.Match[str]) -> str:
        escape = match.group(1)
        return chr(int(escape[1:], 16)) if escape.startswith("u") else _SHORT[escape]

    joined = _JSON_ESCAPE.sub(unescape, text)
    # Surrogate pairs written as two escapes become one character.
    return joined.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _decode_base64(run: str) -> str:
    usable = run[: len(run) - len(run) % 4]
    try:
        data = base64.b64decode(usable.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return ""
    return data.decode("utf-8", "replace")
