"""Input shown on a terminal: controls, escapes, bidi overrides and separators become visible escapes."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.core.display import for_terminal, quoted


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("RSP-ECHO\x1b]0;pwned\x07", "RSP-ECHO\\x1b]0;pwned\\x07"),
        ("A\nresult: no new failures", "A\\x0aresult: no new failures"),
        ("tab\there", "tab\\x09here"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("abc\u202edcba", "abc\\u202edcba"),
        ("\u2066iso\u2069 \u200f", "\\u2066iso\\u2069 \\u200f"),
        ("line\u2028sep", "line\\u2028sep"),
        ("bad\udcffbyte", "bad\\udcffbyte"),
        ("café Ωmega 中文 😀 ok", "café Ωmega 中文 😀 ok"),
    ],
)
def test_unsafe_characters_are_escaped_and_others_kept(given: str, shown: str) -> None:
    assert for_terminal(given) == shown


def test_quoted_escapes_once_between_quotes() -> None:
    assert quoted("a\r\nb") == "'a\\x0d\\x0ab'"
    assert quoted("x" * 20, limit=5) == "'xxxxx... (15 more)'"


def test_a_long_text_is_cut_and_says_how_much_was_left() -> None:
    assert for_terminal("x" * 100, limit=10) == "x" * 10 + "... (90 more)"
    assert for_terminal("short", limit=10) == "short"


@given(st.text())
def test_nothing_a_terminal_obeys_survives(text: str) -> None:
    shown = for_terminal(text)
    for char in shown:
        category = unicodedata.category(char)
        assert category not in ("Cc", "Cs", "Zl", "Zp"), repr(char)
        assert char not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    shown.encode("utf-8")
