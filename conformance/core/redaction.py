"""Masking secrets in text and bytes, in every form a target or a writer may have turned them into.

For each secret this finds: the raw form; JSON escapes (``\\uXXXX`` in either hex case for any character,
surrogate pairs, the short escapes, ``\\/``), also nested (``\\\\u0041``); percent-encoding of any subset
of the characters' UTF-8 bytes in either case, also double (``%2541``), and ``+`` for a space; XML and HTML
character references; ``\\xNN`` escapes; any mix of these, character by character; and base64 or base64url
of the secret at any alignment inside a longer base64 stream (padded or not, alone, in a ``user:secret``
pair, after ``Basic``). A base64 match masks the whole base64 word around it, so a Basic credential or
a token inside a blob goes as a whole and no edge character tells a bit of the secret.

Secrets shorter than ``MIN_SECRET_LENGTH`` are never searched for inside text (a five-letter token occurs
in ordinary words): they are masked only where a whole value is the secret or one of its encodings.

Example::

    redact('{"auth": "Basic dXNlcjpzM2NyZXQtdjRsdWU="}', ["s3cret-v4lue"])   # '{"auth": "Basic ***"}'
    redact_bytes(body, secrets)                                             # the same, on raw bytes
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from conformance.core.exchange import MASK

#: Values shorter than this are masked only as whole values: searching for them inside text would garble
#: every artefact (a one-letter test token occurs in every word), and no real token or IAM password is short.
MIN_SECRET_LENGTH = 8

# Characters a base64 or base64url word is made of; a base64 match is widened over them.
_BASE64_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
_SHORT_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
_NAMED_ENTITIES = {"&": ("amp",), "<": ("lt",), ">": ("gt",), '"': ("quot",), "'": ("apos",)}
# How many characters of a form the one search pattern looks for; the rest is followed character by
# character where that head occurs. At least MIN_SECRET_LENGTH, and no longer than the shortest base64
# fragment of a secret that long.
_HEAD = 10
_BASIC = re.compile(r"\s*basic\s+([A-Za-z0-9+/_=-]+)\s*", re.IGNORECASE)


def redact(text: str, secrets: Iterable[str], *, mask: str = MASK) -> str:
    """``text`` with every form of every secret masked (short secrets only where they are the whole text)."""
    return _masker(tuple(secrets)).redact(text, mask=mask)


def redact_bytes(data: bytes, secrets: Iterable[str], *, mask: str = MASK) -> bytes:
    """``data`` with every form of every secret masked; bytes that are not UTF-8 are kept as they were."""
    return _masker(tuple(secrets)).redact_bytes(data, mask=mask)


def holds_secret(text: str, secrets: Iterable[str]) -> bool:
    """Whether ``text`` holds some form of one of the secrets."""
    return _masker(tuple(secrets)).redact(text, mask=MASK) != text


@functools.lru_cache(maxsize=64)
def _masker(secrets: tuple[str, ...]) -> Masker:
    return Masker(secrets)


class Masker:
    """One set of secrets, its patterns compiled once; ``redact`` and ``redact_bytes`` reuse it per set."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = tuple(dict.fromkeys(s for s in secrets if s))
        long = [s for s in unique if len(s) >= MIN_SECRET_LENGTH]
        self._whole_values = frozenset(_whole_forms(unique))
        self._short = tuple(s for s in unique if len(s) < MIN_SECRET_LENGTH)
        self._searched = _compile(long)

    def redact(self, text: str, *, mask: str = MASK) -> str:
        """``text`` with every form of every secret replaced by ``mask``."""
        if not text:
            return text
        if self._whole_values and self._is_whole_value(text):
            stripped = text.strip()
            start = text.index(stripped) if stripped else 0
            return text[:start] + mask + text[start + len(stripped) :]
        searched = self._searched
        if searched is None or not searched.may_hold(text):
            return text
        return _replace(text, searched, mask)

    def redact_bytes(self, data: bytes, *, mask: str = MASK) -> bytes:
        """``data`` with every form of every secret replaced by ``mask`` (encoded as UTF-8)."""
        # surrogateescape keeps bytes that are not UTF-8 as they were.
        text = data.decode("utf-8", "surrogateescape")
        masked = self.redact(text, mask=mask)
        return data if masked == text else masked.encode("utf-8", "surrogateescape")

    def _is_whole_value(self, text: str) -> bool:
        value = text.strip()
        if value in self._whole_values:
            return True
        basic = _BASIC.fullmatch(text) if self._short else None
        if basic is None:
            return False
        # A Basic credential of a short password: the decoded pair ends in ":<password>".
        decoded = _decode_base64(basic.group(1))
        return decoded is not None and any(decoded.endswith(":" + s) for s in self._short)


@dataclass(frozen=True)
class _Form:
    """One string to find (a secret or a base64 fragment of one), and whether it is a base64 word."""

    text: str
    base64: bool


@dataclass(frozen=True)
class _Searched:
    """The search for the long secrets: a cheap test, one pattern for the heads of all forms, the forms."""

    heads: re.Pattern[str]
    forms: tuple[_Form, ...]
    literals: tuple[str, ...]
    triggers: tuple[str, ...]

    def may_hold(self, text: str) -> bool:
        # Every spelling but the raw one needs a trigger character; without them only a raw head can occur.
        return any(trigger in text for trigger in self.triggers) or any(lit in text for lit in self.literals)


def _compile(secrets: list[str]) -> _Searched | None:
    if not secrets:
        return None
    texts = {secret: False for secret in secrets}
    words = {fragment: True for secret in secrets for fragment in base64_fragments(secret)}
    # Longest first, so that of two secrets where one holds the other the longer is masked whole.
    ordered = sorted({**words, **texts}.items(), key=lambda item: len(item[0]), reverse=True)
    forms = tuple(_Form(text, is_word) for text, is_word in ordered)
    # Only the heads are one pattern: its size, and the time to compile it, do not grow with a secret's
    # length (identity tokens run to kilobytes). Every alternative starts with a literal character, so the
    # regex engine skips ahead to where one occurs instead of trying the pattern at every position.
    heads = re.compile("|".join(spelling for form in forms for spelling in _spelled(form.text[:_HEAD])))
    triggers = ["\\", "%", "&"]
    if any(" " in secret for secret in secrets):
        triggers.append("+")
    literals = tuple(dict.fromkeys(form.text[:_HEAD] for form in forms))
    return _Searched(heads=heads, forms=forms, literals=literals, triggers=tuple(triggers))


def _replace(text: str, searched: _Searched, mask: str) -> str:
    spans: list[tuple[int, int]] = []
    position = 0
    while (found := searched.heads.search(text, position)) is not None:
        at = found.start()
        start, end = at, found.end()
        for form in searched.forms:
            spelt, reach = _consume(text, at, form.text)
            # A form cut short (an excerpt of a long token) is masked as far as it goes.
            if spelt < min(_HEAD, len(form.text)):
                continue
            if form.base64:
                left, reach = _widen_to_word(text, at, reach)
                start = min(start, left)
            end = max(end, reach)
        spans.append((start, end))
        position = end
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    # A base64 word widened to the left can reach back over an earlier span: merge in order of start.
    for start, end in _merged(spans):
        pieces += [text[last:start], mask]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _consume(text: str, start: int, form: str) -> tuple[int, int]:
    """How many characters of ``form`` are spelt from ``start`` on, and where the longest such spelling ends.

    Spellings can be prefixes of each other (``%`` and ``%25``), so every place each character can end at
    is followed, not only the first.
    """
    if text.startswith(form, start):
        return len(form), start + len(form)
    positions = {start}
    furthest = start
    spelt = 0
    for char in form:
        reached = {
            match.end()
            for position in positions
            for spelling in _character(char)
            if (match := spelling.match(text, position)) is not None
        }
        if not reached:
            break
        positions = reached
        furthest = max(reached)
        spelt += 1
    return spelt, furthest


def _widen_to_word(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1] in _BASE64_CHARACTERS:
        start -= 1
    while end < len(text) and text[end] in _BASE64_CHARACTERS:
        end += 1
    while end < len(text) and text[end] == "=":
        end += 1
    return start, end


def base64_fragments(secret: str) -> tuple[str, ...]:
    """The base64 and base64url characters that encode ``secret`` wherever it starts inside a byte stream.

    A secret that starts 0, 1 or 2 bytes into a 3-byte group is spelt differently; the characters that
    also encode bytes before or after it depend on those neighbours and are left out.
    """
    data = secret.encode("utf-8", "surrogatepass")
    fragments: dict[str, None] = {}
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data + bytes(2)).decode("ascii")
        # Character i holds bits 6i..6i+5 of the stream; keep those that fall wholly within the secret.
        first = -(-8 * offset // 6)
        last = 8 * (offset + len(data)) // 6
        fragment = encoded[first:last]
        if fragment:
            fragments[fragment] = None
            fragments[fragment.replace("+", "-").replace("/", "_")] = None
    return tuple(fragments)


def _spelled(form: str) -> list[str]:
    """Patterns for ``form`` with each character raw or in any of its escaped or encoded spellings.

    One pattern per spelling of the first character, each starting with a literal.
    """
    rest = "".join("(?:" + "|".join(_spellings(char)) + ")" for char in form[1:])
    return [first + rest for first in _spellings(form[0])]


@functools.lru_cache(maxsize=4096)
def _character(char: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(spelling) for spelling in _spellings(char))


@functools.lru_cache(maxsize=4096)
def _spellings(char: str) -> tuple[str, ...]:
    code = ord(char)
    spellings = [re.escape(char)]
    if code < 0x10000:
        spellings.append(r"\\\\*u" + _hex(code, 4))
    else:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        spellings.append(r"\\\\*u" + _hex(high, 4) + r"\\\\*u" + _hex(low, 4))
    if char in _SHORT_JSON_ESCAPES:
        spellings.append(r"\\\\*" + re.escape(_SHORT_JSON_ESCAPES[char]))
    if code < 0x100:
        spellings.append(r"\\\\*x" + _hex(code, 2))
    spellings.append("".join("%(?:25)*" + _hex(byte, 2) for byte in char.encode("utf-8", "surrogatepass")))
    if char == " ":
        spellings.append(r"\+")
    spellings.append(f"&#0*{code};")
    spellings.append(f"&#[xX]0*{_hex(code, 1)};")
    spellings += [f"&{name};" for name in _NAMED_ENTITIES.get(char, ())]
    return tuple(spellings)


def _hex(value: int, width: int) -> str:
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{width}x}")


def _whole_forms(secrets: Iterable[str]) -> Iterator[str]:
    """The spellings of each secret that mask a whole value (the only masking short secrets get)."""
    for secret in secrets:
        data = secret.encode("utf-8", "surrogatepass")
        yield secret
        yield json.dumps(secret)[1:-1]
        yield json.dumps(secret, ensure_ascii=False)[1:-1]
        yield urllib.parse.quote(secret, safe="")
        yield urllib.parse.quote_plus(secret, safe="")
        for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
            text = encoded.decode("ascii")
            yield text
            yield text.rstrip("=")


def _decode_base64(word: str) -> str | None:
    padded = word.rstrip("=") + "=" * (-len(word.rstrip("=")) % 4)
    try:
        data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return data.decode("utf-8", "surrogateescape")
