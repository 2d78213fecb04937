"""Strategies for the optional fields of a snapshot: names, descriptions, forces and metadata, valid and not.

Every limit and type is read from the contract and valid values are built to satisfy it (no rejection
sampling against the schema); valid strategies never produce a reserved name prefix.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, cast

import jsonschema
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.contract import JSON, Contract, FieldRule
from conformance.errors import SpecError

#: Any Unicode scalar value: every plane, no surrogates (UTF-8 JSON cannot carry a lone one). The same set
#: as ``codec="utf-8"``, which Hypothesis would compute by encoding every code point (seconds per fresh run).
CHARACTERS = st.characters(exclude_categories=["Cs"])
#: Whitespace the padded texts put at their ends (a field that refuses some keeps the rest).
PADDING = " \t\n\r\u00a0\u3000"
#: How far past a limit the overlong strategies go (they shrink towards exactly one character over).
OVERSHOOT = 64
#: Metadata maps up to this many pairs are small; larger ones are built only when asked for.
SMALL_MAP = 4
#: The longest value in a large metadata map: many pairs is the point, and a failing case stays readable.
LARGE_MAP_VALUE = 16
#: String keywords the valid-string strategies build in; any other constraint is checked after drawing.
_BUILT_KEYWORDS = frozenset({"type", "maxLength", "minLength", "description", "default", "title", "examples"})


def _rule(contract: Contract, name: str) -> FieldRule:
    try:
        return contract.field(name)
    except KeyError:
        raise SpecError(f"the contract's snapshot object has no {name!r} field") from None


def _limit(rule: FieldRule) -> int:
    if rule.max_length is None:
        raise SpecError(f"the contract sets no maximum length for {rule.name!r} ({rule.source})")
    return rule.max_length


@functools.lru_cache(maxsize=64)
def _validator(contract: Contract, name: str) -> jsonschema.protocols.Validator:
    # The oracle's own validator, so that a rare value checked here is judged as the oracle judges it.
    return jsonschema.Draft202012Validator(dict(contract.field(name).schema))


def _reserved(rule: FieldRule) -> tuple[str, ...]:
    return tuple(str(p) for p in rule.schema.get("x-reserved-prefixes", ()))


def _alphabet(rule: FieldRule) -> st.SearchStrategy[str]:
    """The characters a field takes: every plane, or the printable ones where the contract says so."""
    if not rule.printable_only:
        return CHARACTERS
    return st.characters(
        max_codepoint=rule.max_codepoint,
        # Category names come from the contract; Hypothesis checks them when the strategy is first drawn.
        exclude_categories=cast("Collection[Any]", (*rule.excluded_categories, "Cs")),
    )


def _padding(rule: FieldRule) -> str:
    return "".join(char for char in PADDING if not rule.unprintable(char))


def _unbuilt_check(contract: Contract, rule: FieldRule) -> Callable[[str], bool] | None:
    """A test for the constraints of a string field that drawing does not build in, or None if none."""
    other = {k for k in rule.schema if not k.startswith("x-") and k not in _BUILT_KEYWORDS}
    if other == {"pattern"}:
        # jsonschema applies a pattern with re.search; so does this, without the validator's overhead.
        pattern = re.compile(str(rule.schema["pattern"]))
        return lambda value: pattern.search(value) is not None
    if other:
        validator = _validator(contract, rule.name)
        return lambda value: bool(validator.is_valid(value))
    return None


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


#: The shapes of a bounded text, picked by one drawn number: as drawn, at its upper bound, at its lower
#: bound, or whitespace-padded (the rest of the number then says how).
_SHAPES = ("as drawn", "at the upper bound", "at the lower bound", "padded")


def _shaped(min_size: int, max_size: int, padding: str, form: int, text: str) -> str:
    """``text`` (of ``min_size..max_size`` characters) given the shape ``form`` picks; see ``_SHAPES``."""
    shape = _SHAPES[form % len(_SHAPES)]
    if shape == "at the upper bound" and text:
        # Repeating the drawn characters reaches the bound without drawing max_size characters afresh.
        return (text * (max_size // len(text) + 1))[:max_size]
    if shape == "at the lower bound":
        return text[:min_size]
    if shape == "padded" and padding:
        return _pad(padding, max_size, text, form // len(_SHAPES))
    return text


def bounded_texts(
    *,
    max_size: int,
    min_size: int = 0,
    alphabet: st.SearchStrategy[str] = CHARACTERS,
    padding: str = PADDING,
) -> st.SearchStrategy[str]:
    """Text of ``min_size..max_size`` characters from ``alphabet``: short, whitespace-padded, or exactly at a
    bound; shrinks towards the shortest. ``padding`` names the whitespace the padded texts may use."""
    if not 0 <= min_size <= max_size:
        raise InvalidArgument(f"need 0 <= min_size <= max_size, got {min_size}, {max_size}")
    forms = st.integers(min_value=0, max_value=len(_SHAPES) * 64 * max(1, len(padding)) - 1)
    return _bounded(
        forms, st.text(alphabet, min_size=min_size, max_size=max_size), min_size, max_size, padding
    )


@st.composite
def _bounded(
    draw: st.DrawFn,
    forms: st.SearchStrategy[int],
    texts: st.SearchStrategy[str],
    min_size: int,
    max_size: int,
    padding: str,
) -> str:
    # Two draws, a number for the shape and the text, cost far less than a one_of of separate texts
    # (or st.builds of the same two).
    return _shaped(min_size, max_size, padding, draw(forms), draw(texts))


def _valid_strings(contract: Contract, name: str, *, include_null: bool) -> st.SearchStrategy[str | None]:
    rule = _rule(contract, name)
    texts = bounded_texts(
        max_size=_limit(rule),
        min_size=int(rule.schema.get("minLength", 0)),
        alphabet=_alphabet(rule),
        padding=_padding(rule),
    )
    prefixes = _reserved(rule)
    if prefixes:
        # Mapped, not filtered: a filter over these branches doubles the cost of every draw.
        texts = texts.map(functools.partial(_unreserved, prefixes))
    check = _unbuilt_check(contract, rule)
    if check is not None:
        # Almost never rejects: the alphabet already honours a pattern that restates the printable rule.
        texts = texts.filter(check)
    if include_null and rule.nullable:
        return st.none() | texts
    return texts


def _unreserved(prefixes: tuple[str, ...], value: str) -> str:
    """``value`` without the first character of any reserved prefix it starts with (after whitespace)."""
    while value.lstrip().startswith(prefixes):
        start = len(value) - len(value.lstrip())
        value = value[:start] + value[start + 1 :]
    return value


def _overlong(contract: Contract, name: str) -> st.SearchStrategy[str]:
    limit = _limit(_rule(contract, name))
    return st.text(CHARACTERS, min_size=limit + 1, max_size=limit + OVERSHOOT)


def snapshot_names(contract: Contract, *, include_null: bool = False) -> st.SearchStrategy[str | None]:
    """Names the contract accepts (0..limit characters, any plane); shrinks towards ``""``.

    ``include_null`` adds ``None`` where the contract's schema allows it.
    """
    return _valid_strings(contract, "name", include_null=include_null)


def overlong_names(contract: Contract) -> st.SearchStrategy[str]:
    """Names one to a few dozen characters over the limit; shrinks towards exactly limit + 1."""
    return _overlong(contract, "name")


def descriptions(contract: Contract, *, include_null: bool = False) -> st.SearchStrategy[str | None]:
    """Descriptions the contract accepts (0..limit characters, printable ones only where it says so);
    ``include_null`` adds ``None`` if allowed."""
    return _valid_strings(contract, "description", include_null=include_null)


def overlong_descriptions(contract: Contract) -> st.SearchStrategy[str]:
    """Descriptions over the limit; shrinks towards exactly limit + 1 characters."""
    return _overlong(contract, "description")


@st.composite
def _arrays(draw: st.DrawFn, elements: st.SearchStrategy[JSON], max_size: int) -> list[JSON]:
    """Arrays of up to ``max_size`` elements; shrinks towards ``[]``."""
    # One draw for the length, then the elements: far cheaper than st.lists's per-element bookkeeping.
    return [draw(elements) for _ in range(draw(st.integers(min_value=0, max_value=max_size)))]


@st.composite
def _maps(
    draw: st.DrawFn, keys: st.SearchStrategy[str], values: st.SearchStrategy[JSON], max_size: int
) -> dict[str, JSON]:
    """Maps of up to ``max_size`` pairs (fewer when a key repeats); shrinks towards ``{}``."""
    return {draw(keys): draw(values) for _ in range(draw(st.integers(min_value=0, max_value=max_size)))}


#: Keys of the small objects nested in arbitrary JSON values.
_SHORT_KEYS = st.text(max_size=8)


def _nested_values(depth: int) -> st.SearchStrategy[JSON]:
    """Scalars, ``null``, and arrays and objects nested up to ``depth`` levels (few elements each)."""
    values: st.SearchStrategy[JSON] = st.none() | _scalars()
    for _ in range(depth):
        values = st.none() | _scalars() | _arrays(values, 3) | _maps(_SHORT_KEYS, values, 3)
    return values


def _scalars() -> st.SearchStrategy[JSON]:
    return st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()


def non_object_values(*, depth: int = 2) -> st.SearchStrategy[JSON]:
    """JSON values that are neither ``null`` nor an object: scalars, and arrays nested up to ``depth``."""
    return _scalars() | _arrays(_nested_values(depth - 1), 3)


def json_objects(
    *, depth: int = 2, keys: st.SearchStrategy[str] = _SHORT_KEYS, max_size: int = 3
) -> st.SearchStrategy[dict[str, JSON]]:
    """JSON objects of up to ``max_size`` pairs with values nested up to ``depth``; shrinks towards ``{}``."""
    return _maps(keys, _nested_values(depth - 1), max_size)


def json_values(*, depth: int = 2) -> st.SearchStrategy[JSON]:
    """Any JSON value except ``null``: scalars, arrays and objects (small); shrinks towards ``False``."""
    return non_object_values(depth=depth) | json_objects(depth=depth)


def _is_fraction(value: float) -> bool:
    return not value.is_integer()


def values_of_other_types(types: Collection[str]) -> st.SearchStrategy[JSON]:
    """Non-null JSON values of none of the JSON Schema ``types`` (small), built rather than filtered."""
    nested = _nested_values(1)
    floats = st.floats(allow_nan=False, allow_infinity=False)
    parts: list[st.SearchStrategy[JSON]] = []
    if "boolean" not in types:
        parts.append(st.booleans())
    if "number" not in types:
        # JSON Schema counts 1.0 as an integer, so a field taking integers refuses only fractions.
        parts.append(floats.filter(_is_fraction) if "integer" in types else st.integers() | floats)
    if "string" not in types:
        parts.append(st.text(max_size=16))
    if "array" not in types:
        parts.append(_arrays(nested, 3))
    if "object" not in types:
        parts.append(_maps(_SHORT_KEYS, nested, 3))
    if not parts:
        raise InvalidArgument(f"every JSON type is in {sorted(types)}: no value of another type exists")
    return st.one_of(parts)


def _rejected_by(contract: Contract, name: str) -> st.SearchStrategy[JSON]:
    """Non-null values of ``name``'s schema refuses: other types, and strings where it constrains them."""
    rule = _rule(contract, name)
    wrong = values_of_other_types(rule.types)
    if "string" not in rule.types:
        return wrong
    validator = _validator(contract, name)
    # Short strings are all but never in a field's list of accepted strings: a cheap, rarely failing test.
    return wrong | st.text(max_size=12).filter(lambda v: not validator.is_valid(v))


def forces(contract: Contract) -> st.SearchStrategy[JSON]:
    """Values the contract accepts for ``force``: Booleans, and boolean-like strings where it takes them."""
    rule = _rule(contract, "force")
    if "boolean" not in rule.types:
        raise SpecError(f"the contract's force field is not a Boolean ({rule.source})")
    strings = rule.boolean_like_strings
    if not strings:
        return st.booleans()
    return st.booleans() | st.sampled_from(sorted(strings))


def non_boolean_forces(contract: Contract) -> st.SearchStrategy[JSON]:
    """Non-null values the contract refuses for ``force``: numbers, other strings, arrays, objects."""
    return _rejected_by(contract, "force")


def _metadata_values(rule: FieldRule, *, max_size: int | None = None) -> st.SearchStrategy[str]:
    schema: Mapping[str, JSON] = rule.value_schema or {}
    if schema.get("type") != "string":
        raise SpecError(f"the contract's metadata values are not strings ({rule.source})")
    limit = schema.get("maxLength")
    cap = int(limit) if limit is not None else 40
    return bounded_texts(max_size=cap if max_size is None else min(cap, max_size))


def _key_check(rule: FieldRule) -> Callable[[str], bool] | None:
    """A test of metadata keys where the contract constrains them (a key pattern), else None."""
    names: Mapping[str, JSON] = rule.schema.get("propertyNames", {})
    if "pattern" not in names:
        return None
    pattern = re.compile(str(names["pattern"]))
    return lambda key: pattern.search(key) is not None


def _metadata_keys(rule: FieldRule) -> st.SearchStrategy[str]:
    """Keys the contract allows: any text (empty, padded, odd) unless it constrains key names."""
    names: Mapping[str, JSON] = rule.schema.get("propertyNames", {})
    if "pattern" in names:
        # from_regex builds keys that match in full, which is all that jsonschema's re.search asks.
        return st.from_regex(re.compile(str(names["pattern"])), fullmatch=True)
    # Bounded texts include the empty key, whitespace-padded keys and keys of any plane.
    return bounded_texts(max_size=24)


def _numbered(key: str, value: str, count: int) -> dict[str, str]:
    return {f"{key}{i}": value for i in range(count)}


def metadata_maps(contract: Contract, *, max_size: int = SMALL_MAP) -> st.SearchStrategy[dict[str, str]]:
    """String-to-string maps with empty and odd keys: up to ``SMALL_MAP`` pairs, and, when ``max_size`` is
    larger, maps of ``max_size // 2`` to ``max_size`` pairs; shrinks towards ``{}``."""
    if max_size < 1:
        raise InvalidArgument(f"max_size must be at least 1, got {max_size}")
    rule = _rule(contract, "metadata")
    keys = _metadata_keys(rule)
    small = _maps(keys, _metadata_values(rule), min(SMALL_MAP, max_size))
    if max_size <= SMALL_MAP:
        return small
    # Large maps repeat one short drawn pair under numbered keys: drawing every pair would be slow.
    large = st.builds(
        _numbered,
        keys,
        _metadata_values(rule, max_size=LARGE_MAP_VALUE),
        st.integers(min_value=max(SMALL_MAP + 1, max_size // 2), max_value=max_size),
    )
    check = _key_check(rule)
    if check is not None:
        # A numbered key can outgrow a key pattern's length; only drawn keys near that length are lost.
        large = large.filter(lambda m: all(check(k) for k in m))
    return small | large


@st.composite
def _maps_with_bad_entry(
    draw: st.DrawFn,
    keys: st.SearchStrategy[str],
    values: st.SearchStrategy[str],
    bad_pairs: st.SearchStrategy[tuple[str, JSON]],
) -> dict[str, JSON]:
    """A small map of valid pairs plus one pair the contract refuses."""
    found: dict[str, JSON] = draw(_maps(keys, values, 3))
    key, value = draw(bad_pairs)
    found[key] = value
    return found


def invalid_metadata(contract: Contract) -> st.SearchStrategy[JSON]:
    """Non-null ``metadata`` the contract refuses: a non-object, or a map with one pair it refuses (a
    non-string or overlong value, or a key outside the contract's key pattern)."""
    rule = _rule(contract, "metadata")
    keys, values = _metadata_keys(rule), _metadata_values(rule)
    bad_values: st.SearchStrategy[JSON] = values_of_other_types(("string",)) | st.none()
    limit = (rule.value_schema or {}).get("maxLength")
    if limit is not None:
        bad_values |= st.text(CHARACTERS, min_size=int(limit) + 1, max_size=int(limit) + OVERSHOOT)
    bad_pairs: st.SearchStrategy[tuple[str, JSON]] = st.tuples(keys, bad_values)
    check = _key_check(rule)
    if check is not None:
        # Short arbitrary keys all but never match a key pattern: a cheap, rarely failing test.
        bad_pairs |= st.tuples(st.text(max_size=8).filter(lambda k: not check(k)), values)
    return values_of_other_types(rule.types) | _maps_with_bad_entry(keys, values, bad_pairs)
