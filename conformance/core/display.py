"""Text from a target or a user made safe to print on a terminal: control characters shown, not obeyed.

An ID, title, waiver reason or message may hold an escape sequence (retitle the terminal, move the cursor,
clear the screen), a line break that forges a line of our own output ("result: no new failures"), or a
bidirectional override that makes text read differently from what it is. ``for_terminal`` shows each such
character as a visible escape (``\\x1b``, ``\\u202e``) and leaves everything else as it is.

Example::

    for_terminal("RSP-ECHO\\x1b]0;pwned\\x07")          # 'RSP-ECHO\\\\x1b]0;pwned\\\\x07'
    for_terminal("x" * 500, limit=80)                  # 80 characters, then '... (420 more)'
    quoted("reports\n")                                 # "'reports\\x0a'"
"""

from __future__ import annotations

import re

# C0 controls and DEL, C1 controls; the bidirectional embeddings, overrides, isolates and marks; the line
# and paragraph separators (some terminals break lines on them); the BOM / zero-width no-break space; lone
# surrogates (bytes of a file name that were not UTF-8), which cannot even be written to a UTF-8 terminal.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def for_terminal(text: str, *, limit: int | None = None) -> str:
    """``text`` with every control, bidi and line-separator character escaped, cut after ``limit``."""
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"... ({len(text) - limit} more)"
        text = text[:limit]
    return _UNSAFE.sub(_escape, text) + cut


def quoted(text: str, *, limit: int | None = None) -> str:
    """``text`` for a message: escaped as ``for_terminal`` does, between single quotes."""
    return f"'{for_terminal(text, limit=limit)}'"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
