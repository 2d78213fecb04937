"""Texts with shapes: drawn from an alphabet, then kept as drawn, taken to a bound or whitespace-padded.

The building blocks of the field strategies. A ``TextKind`` says what plain texts are drawn and how many
shape numbers reshape them; ``shaped_texts`` draws the number and the text in one composite (each wrapper
layer of a strategy costs a span and a dispatch on every draw, and the suite draws a body per request).

Example::

    kind = text_kind(CHARACTERS, max_size=64)
    names = shaped_texts(kind, nullable=True)        # None, or a name of 0..64 characters of any plane
    keys = repeated_class_kind("^[a-z]{1,8}$", unbounded_size=24)   # the class's characters, 1..8 long
"""

from __future__ import annotations

import array
import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

#: Any Unicode scalar value: every plane, no surrogates (UTF-8 JSON cannot carry a lone one). The same set
#: as ``codec="utf-8"``, which Hypothesis would compute by encoding every code point (seconds per fresh run).
CHARACTERS = st.characters(exclude_categories=["Cs"])
#: Whitespace the padded texts put at their ends (a field that refuses some keeps the rest).
PADDING = " \t\n\r\u00a0\u3000"
#: How far past a limit the overlong strategies go (they shrink towards exactly one character over).
OVERSHOOT = 64


def _pad(padding: str, max_size: int, core: str, shape: int) -> str:
    """``core`` with whitespace from ``padding`` at one or both ends, cut to ``max_size`` characters.

    ``shape`` picks the whitespace characters and how many go at each end (shrinking towards one space).
    """
    lead_count, trail_count = shape % 4, shape // 4 % 4
    if not lead_count and not trail_count:
        lead_count = 1
    first = shape // 16 % len(padding)
    lead = (padding[first] * lead_count)[:max_size]
    trail = (padding[(first + shape // 64) % len(padding)] * trail_count)[: max_size - len(lead)]
    return lead + core[: max_size - len(lead) - len(trail)] + trail


def _repeated(text: str, size: int) -> str:
    """``text`` repeated and cut to exactly ``size`` characters (``text`` is not empty)."""
    return (text * (size // len(text) + 1))[:size]


#: The shapes of a bounded text, picked by one drawn number: as drawn, at its upper bound, at its lower
#: bound, or whitespace-padded (the rest of the number then says how).
_SHAPES = ("as drawn", "at the upper bound", "at the lower bound", "padded")


def _shaped(min_size: int, max_size: int, padding: str, form: int, text: str) -> str:
    """``text`` (of ``min_size..max_size`` characters) given the shape ``form`` picks; see ``_SHAPES``."""
    shape = _SHAPES[form % len(_SHAPES)]
    if shape == "at the upper bound" and text:
        # Repeating the drawn characters reaches the bound without drawing max_size characters afresh.
        return _repeated(text, max_size)
    if shape == "at the lower bound":
        return text[:min_size]
    if shape == "padded" and padding:
        return _pad(padding, max_size, text, form // len(_SHAPES))
    return text


@dataclass(frozen=True)
class TextKind:
    """One kind of text: the plain texts drawn, and how many shape numbers reshape them (see ``_SHAPES``).

    A kind whose texts a pattern builds has one shape, as drawn: reshaping could break the pattern.
    """

    plain: st.SearchStrategy[str]
    forms: int
    min_size: int = 0
    max_size: int = 0
    padding: str = ""
    alphabet: st.SearchStrategy[str] | str = ""

    def shaped(self, form: int, text: str) -> str:
        return _shaped(self.min_size, self.max_size, self.padding, form, text)


def text_kind(
    alphabet: st.SearchStrategy[str] | str, max_size: int, min_size: int = 0, padding: str = PADDING
) -> TextKind:
    if not 0 <= min_size <= max_size:
        raise InvalidArgument(f"need 0 <= min_size <= max_size, got {min_size}, {max_size}")
    return TextKind(
        plain=st.text(alphabet, min_size=min_size, max_size=max_size),
        forms=len(_SHAPES) * 64 * max(1, len(padding)),
        min_size=min_size,
        max_size=max_size,
        padding=padding,
        alphabet=alphabet,
    )


def bounded_texts(
    *,
    max_size: int,
    min_size: int = 0,
    alphabet: st.SearchStrategy[str] = CHARACTERS,
    padding: str = PADDING,
) -> st.SearchStrategy[str]:
    """Text of ``min_size..max_size`` characters from ``alphabet``: short, whitespace-padded, or exactly at a
    bound; shrinks towards the shortest. ``padding`` names the whitespace the padded texts may use."""
    # Not nullable, so never None.
    return cast("st.SearchStrategy[str]", shaped_texts(text_kind(alphabet, max_size, min_size, padding)))


def shaped_texts(
    kind: TextKind,
    *,
    nullable: bool = False,
    prefixes: tuple[str, ...] = (),
    check: Callable[[str], bool] | None = None,
) -> st.SearchStrategy[str | None]:
    """Texts of ``kind``, or ``None`` for half of the shape numbers when ``nullable`` (shrinking to it)."""
    forms = st.integers(min_value=0, max_value=kind.forms * (2 if nullable else 1) - 1)
    return _drawn_texts(forms, kind, nullable, prefixes, check)


@st.composite
def _drawn_texts(
    draw: st.DrawFn,
    forms: st.SearchStrategy[int],
    kind: TextKind,
    nullable: bool,
    prefixes: tuple[str, ...],
    check: Callable[[str], bool] | None,
) -> str | None:
    # One composite draws a number for the shape and the text, and settles null, reserved prefixes and
    # any other constraint itself: every extra .map, .filter or one_of layer costs a span and a dispatch
    # on each draw, and the suite draws a body per HTTP request.
    form = draw(forms)
    if nullable:
        if form % 2 == 0:
            return None
        form //= 2
    for _ in range(3):
        text = kind.shaped(form, draw(kind.plain))
        if prefixes:
            text = _unreserved(prefixes, text)
        if check is None or check(text):
            return text
    # As a filter would after three misses; the alphabet already honours almost every pattern.
    return reject()


def _unreserved(prefixes: tuple[str, ...], value: str) -> str:
    """``value`` without the first character of any reserved prefix it starts with (after whitespace)."""
    while value.lstrip().startswith(prefixes):
        start = len(value) - len(value.lstrip())
        value = value[:start] + value[start + 1 :]
    return value


def overlong_texts(limit: int) -> st.SearchStrategy[str]:
    """Texts of any plane one to ``OVERSHOOT`` characters over ``limit``; shrinks towards limit + 1."""
    return _drawn_overlong(
        st.integers(min_value=0, max_value=_OVERLONG_FORMS * OVERSHOOT - 1),
        st.text(CHARACTERS, min_size=1, max_size=OVERSHOOT),
        st.text(CHARACTERS, min_size=limit + 1, max_size=limit + OVERSHOOT),
        limit,
    )


#: One overlong text in this many is drawn character by character; the others repeat a short drawn text.
_OVERLONG_FORMS = 4


@st.composite
def _drawn_overlong(
    draw: st.DrawFn,
    forms: st.SearchStrategy[int],
    pieces: st.SearchStrategy[str],
    texts: st.SearchStrategy[str],
    limit: int,
) -> str:
    # Drawing hundreds of characters costs milliseconds, and the length is what an overlong value is for:
    # most values repeat a short drawn piece up to a drawn length, and the rest keep fully drawn texts so
    # that long runs of distinct characters still occur.
    form = draw(forms)
    if form % _OVERLONG_FORMS == _OVERLONG_FORMS - 1:
        return draw(texts)
    return _repeated(draw(pieces), limit + 1 + form // _OVERLONG_FORMS)


#: A pattern that is one character class repeated, anchored or not, as key patterns usually are. Keys of
#: such a pattern are texts of the class's characters, with every shape, instead of from_regex's
#: character-by-character draws (a choice and a span each). A negated class is left to from_regex: its
#: alphabet is most of Unicode, and Hypothesis takes seconds to index one given as a string.
_CLASS_REPEAT = re.compile(r"\^?(\[(?!\^)(?:\\.|[^\\\]])+\])(?:\{(\d+)(,(\d+))?\}|([+*]))\$?")


@functools.lru_cache(maxsize=16)
def class_members(char_class: str) -> str:
    """The Unicode scalar values a regular-expression character class matches, in order."""
    codes = array.array("I", range(0xD800))
    codes.extend(range(0xE000, 0x110000))
    # Decoding every code point at once is some ten times faster than a chr() each.
    scalars = str(codes.tobytes(), f"utf-32-{'le' if sys.byteorder == 'little' else 'be'}")
    return "".join(re.findall(char_class, scalars))


def repeated_class_kind(pattern: str, *, unbounded_size: int) -> TextKind | None:
    """Texts of a pattern that is one character class repeated (``^[a-z0-9]{1,255}$``), in every shape;
    None for any other pattern. ``+`` and ``*`` repeat up to ``unbounded_size`` characters."""
    found = _CLASS_REPEAT.fullmatch(pattern)
    alphabet = class_members(found[1]) if found else ""
    if found is None or not alphabet:
        return None
    if found[5]:
        least, most = int(found[5] == "+"), unbounded_size
    else:
        least = int(found[2])
        most = int(found[4]) if found[3] else least
    return text_kind(alphabet, most, least, "".join(c for c in PADDING if c in alphabet))
