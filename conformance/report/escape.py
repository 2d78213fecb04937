"""Text from the target made safe to show: control and direction-changing characters written visibly.

A target's answer may hold terminal escape sequences, carriage returns that overwrite a line, or Unicode
direction overrides that reorder what a reader sees; every report shows them as escapes instead.

Example::

    visible("ok\\x1b[2Jgone")      # 'ok\\\\x1b[2Jgone'
"""

from __future__ import annotations

import re

# C0 and C1 controls except newline and tab, DEL, and the bidirectional embedding/override/isolate marks.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every hidden or reordering character written as ``\\xNN`` / ``\\uNNNN``."""
    shown = _HIDDEN.sub(_escape, text)
    return shown if keep_newlines else shown.replace("\n", "\\n").replace("\t", "\\t")
