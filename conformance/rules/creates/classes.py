"""The classes of valid value a planned create carries, per field, each only where the contract allows it.

A class is a ``Part``: a fragment of text (letters, marks, characters beyond the BMP, right-to-left text,
combining sequences), whitespace around the value, the length bound filled with multi-byte characters, a
whole value of its own (empty, whitespace only, ``null``), or a metadata pair carrying a class in its key or
its value. Every class is checked with the oracle: a class the contract does not accept for the field (a
control character in Cinder's printable-only description, a non-ASCII metadata key where Cinder's key
pattern rules it out) is left out, so a planned body is valid by construction.

Example::

    carried = carried_text(contract, "name")      # every class a name may carry, combined
    carried.value()                               # " ABC…é中😀… " at the 64-character bound
    carried.narrowed(carried.parts[:2]).value()   # the same field with two classes only
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from conformance.contract import JSON, Contract
from conformance.rules.oracle import Volumes, expect

Kind = Literal["core", "ends", "bound", "whole", "pair"]

#: Characters standing for each Unicode general category, grouped by its major class; a field gets the
#: first of each category it accepts. Surrogates (Cs) are left out: UTF-8 JSON cannot carry a lone one.
CATEGORY_GROUPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("letters", {"Lu": "AZ", "Ll": "az", "Lt": "\u01c5\u1f88", "Lm": "\u02b0\u3005", "Lo": "\u4e2d\u05d0"}),
    ("marks", {"Mn": "\u0301\u0300", "Mc": "\u0903\u0982", "Me": "\u20dd\u0488"}),
    ("numbers", {"Nd": "7\u0663", "Nl": "\u216b\u3007", "No": "\u00bd\u00b2"}),
    (
        "punctuation",
        {
            "Pc": "_\u203f",
            "Pd": "-\u2014",
            "Ps": "(\u300c",
            "Pe": ")\u300d",
            "Pi": "\u00ab\u2018",
            "Pf": "\u00bb\u2019",
            "Po": "!.:/",
        },
    ),
    ("symbols", {"Sm": "+\u2211", "Sc": "$\u20ac", "Sk": "^\u02c2", "So": "\u00a9\u2603"}),
    ("separators", {"Zs": "\u00a0 ", "Zl": "\u2028", "Zp": "\u2029"}),
    ("other characters", {"Cc": "\u0007\u001f", "Cf": "\u00ad\u200b", "Co": "\ue000", "Cn": "\u0378"}),
)
#: Fragments of the other classes, each with the alternatives tried when a field refuses the first.
FRAGMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("beyond the BMP", ("\U0001f600\U00010000",)),
    ("combining sequences", ("e\u0301a\u0308", "a\u0308")),
    (
        "right-to-left text",
        ("\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd"),
    ),
)
#: Characters of two, three and four UTF-8 bytes that fill a value to its bound: a limit counted in bytes
#: would refuse them early.
WIDE = "\u00e9\u4e2d\U0001f600"
#: Whitespace put around a value, and values made of whitespace alone (the first a field accepts).
ENDS = (" ", "\u3000")
WHITESPACE_ONLY = (" \t ", "   ")
_DISK = "disk"
_VOLUMES = Volumes(available_id=_DISK, in_use_id=None, busy_status=None, unknown_id="no-disk", sizes={})


@dataclass(frozen=True)
class Part:
    """One class of valid value: ``text`` (a fragment, the whitespace around, the fill alphabet, or a pair's
    value), ``value`` for a whole value, ``key`` for a metadata pair, ``length`` for the bound."""

    label: str
    kind: Kind
    text: str = ""
    value: JSON = None
    key: str = ""
    length: int = 0


@dataclass(frozen=True)
class Carried:
    """A field of a planned body and the classes its value carries; ``value()`` composes them."""

    field: str
    parts: tuple[Part, ...]
    map: bool = False

    def narrowed(self, parts: Sequence[Part]) -> Carried:
        """The same field carrying only ``parts``."""
        return Carried(self.field, tuple(parts), self.map)

    @property
    def labels(self) -> str:
        return "; ".join(part.label for part in self.parts)

    def value(self) -> JSON:
        """The value: a whole value as it is, pairs as a map, text classes joined (``compose``)."""
        wholes = [p for p in self.parts if p.kind == "whole"]
        if wholes:
            return wholes[0].value
        if self.map:
            return {p.key: p.text for p in self.parts}
        return compose(self.parts)


def compose(parts: Sequence[Part]) -> str:
    """Whitespace, then the fragments, then the fill up to the bound, then the whitespace again.

    Whitespace alone goes around one letter, so that it stays whitespace at the ends of a value.
    """
    ends = next((p.text for p in parts if p.kind == "ends"), "")
    core = "".join(p.text for p in parts if p.kind == "core")
    bound = next((p for p in parts if p.kind == "bound"), None)
    if ends and not core and bound is None:
        core = "x"
    fill = ""
    if bound is not None:
        room = bound.length - 2 * len(ends) - len(core)
        fill = "".join(itertools.islice(itertools.cycle(bound.text), max(room, 0)))
    return ends + core + fill + ends


def accepts(contract: Contract, field: str, value: JSON) -> bool:
    """Whether the contract accepts ``value`` for ``field`` (the oracle's verdict on that field alone)."""
    body = {contract.snapshot_key: {"volume_id": _DISK, field: value}}
    return expect(contract, body, _VOLUMES).outcome == "accept"


def _codes(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def text_classes(valid: Callable[[str], bool], max_length: int | None) -> tuple[list[Part], list[Part]]:
    """The classes of text ``valid`` accepts: those that combine into one value, and whole values."""
    wholes = [Part("empty", "whole", value="")] if valid("") else []
    spaces = next((w for w in WHITESPACE_ONLY if valid(w)), None)
    if spaces is not None:
        wholes.append(Part(f"whitespace only ({_codes(spaces)})", "whole", value=spaces))
    combined: list[Part] = []
    ends = next((e for e in ENDS if valid(f"{e}x{e}")), None)
    if ends is not None:
        combined.append(Part(f"whitespace at both ends ({_codes(ends)})", "ends", text=ends))
    for group, categories in CATEGORY_GROUPS:
        chosen = {
            name: next((c for c in candidates if valid(c)), None) for name, candidates in categories.items()
        }
        kept = {name: c for name, c in chosen.items() if c is not None}
        if kept:
            shown = ", ".join(f"{name} {_codes(c)}" for name, c in kept.items())
            combined.append(Part(f"{group} ({shown})", "core", text="".join(kept.values())))
    for label, alternatives in FRAGMENTS:
        fragment = next((f for f in alternatives if valid(f)), None)
        if fragment is not None:
            combined.append(Part(f"{label} ({_codes(fragment)})", "core", text=fragment))
    if max_length is not None:
        alphabet = "".join(c for c in WIDE if valid(c)) or "x"
        wide = "multi-byte " if any(ord(c) > 0x7F for c in alphabet) else ""
        label = f"the {max_length}-character bound in {wide}characters {alphabet}"
        combined.append(Part(label, "bound", alphabet, length=max_length))
    return combined, wholes


def carried_text(contract: Contract, field: str) -> tuple[Carried, list[Part]]:
    """A text field carrying every class that combines, and the whole-value classes it also accepts."""
    rule = contract.field(field)
    combined, wholes = text_classes(lambda text: accepts(contract, field, text), rule.max_length)
    if rule.nullable and accepts(contract, field, None):
        wholes.append(Part("null", "whole", value=None))
    carried = Carried(field, tuple(combined))
    if not accepts(contract, field, carried.value()):
        raise ValueError(f"the combined {field} is not valid: {carried.value()!r}")
    return carried, wholes


def carried_metadata(contract: Contract, field: str = "metadata") -> tuple[Carried, list[Part]]:
    """A map carrying one pair per class of key and per class of value, and the whole maps it accepts."""
    rule = contract.field(field)
    key_limit = _length(rule.schema.get("propertyNames"))
    value_limit = _length(rule.value_schema)
    keys, key_wholes = text_classes(lambda key: accepts(contract, field, {key: "v"}), key_limit)
    values, value_wholes = text_classes(lambda value: accepts(contract, field, {"v": value}), value_limit)
    pairs: list[Part] = []
    for part in [*key_wholes, *keys]:
        pairs.append(Part(f"key: {part.label}", "pair", text="v", key=alone(part)))
    for index, part in enumerate([*value_wholes, *values]):
        pairs.append(Part(f"value: {part.label}", "pair", text=alone(part), key=f"value-{index}"))
    unique = list({p.key: p for p in pairs}.values())
    wholes = [Part("empty map", "whole", value={})] if accepts(contract, field, {}) else []
    if rule.nullable and accepts(contract, field, None):
        wholes.append(Part("null", "whole", value=None))
    carried = Carried(field, tuple(unique), map=True)
    if not accepts(contract, field, carried.value()):
        raise ValueError(f"the combined {field} is not valid: {carried.value()!r}")
    return carried, wholes


def alone(part: Part) -> str:
    """The text one class of text makes on its own."""
    return str(part.value) if part.kind == "whole" else compose((part,))


def _length(schema: object) -> int | None:
    value = schema.get("maxLength") if isinstance(schema, Mapping) else None
    return int(value) if isinstance(value, int) else None
