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
from conformance.core.errors import SpecError
from conformance.rules.strategies.texts import (
    CHARACTERS,
    PADDING,
    TextKind,
    overlong_texts,
    repeated_class_kind,
    shaped_texts,
    text_kind,
)

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


def _valid_strings(contract: Contract, name: str, *, include_null: bool) -> st.SearchStrategy[str | None]:
    rule = _rule(contract, name)
    kind = text_kind(_alphabet(rule), _limit(rule), int(rule.schema.get("minLength", 0)), _padding(rule))
    return shaped_texts(
        kind,
        nullable=include_null and rule.nullable,
        prefixes=_reserved(rule),
        check=_unbuilt_check(contract, rule),
    )


def _overlong(contract: Contract, name: str) -> st.SearchStrategy[str]:
    return overlong_texts(_limit(_rule(contract, name)))


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


def _arrays(elements: st.SearchStrategy[JSON], max_size: int) -> st.SearchStrategy[list[JSON]]:
    """Arrays of up to ``max_size`` elements; shrinks towards ``[]``."""
    return _drawn_arrays(st.integers(min_value=0, max_value=max_size), elements)


@st.composite
def _drawn_arrays(
    draw: st.DrawFn, counts: st.SearchStrategy[int], elements: st.SearchStrategy[JSON]
) -> list[JSON]:
    # One draw for the length, then the elements: far cheaper than st.lists's per-element bookkeeping.
    return [draw(elements) for _ in range(draw(counts))]


def _maps(
    keys: st.SearchStrategy[str], values: st.SearchStrategy[JSON], max_size: int
) -> st.SearchStrategy[dict[str, JSON]]:
    """Maps of up to ``max_size`` pairs (fewer when a key repeats); shrinks towards ``{}``."""
    return _drawn_maps(st.integers(min_value=0, max_value=max_size), keys, values)


@st.composite
def _drawn_maps(
    draw: st.DrawFn,
    counts: st.SearchStrategy[int],
    keys: st.SearchStrategy[str],
    values: st.SearchStrategy[JSON],
) -> dict[str, JSON]:
    return {draw(keys): draw(values) for _ in range(draw(counts))}


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
    # One choice instead of a branch and a value; the index shrinks to the first element, False. The
    # Booleans are repeated so that they stay about half of the values, as the Boolean the page shows.
    booleans = [False, True] * max(1, len(strings) // 2)
    return st.sampled_from([*booleans, *sorted(strings)])


def non_boolean_forces(contract: Contract) -> st.SearchStrategy[JSON]:
    """Non-null values the contract refuses for ``force``: numbers, other strings, arrays, objects."""
    return _rejected_by(contract, "force")


def _metadata_values(rule: FieldRule) -> TextKind:
    schema: Mapping[str, JSON] = rule.value_schema or {}
    if schema.get("type") != "string":
        raise SpecError(f"the contract's metadata values are not strings ({rule.source})")
    limit = schema.get("maxLength")
    return text_kind(CHARACTERS, int(limit) if limit is not None else 40)


def _key_check(rule: FieldRule) -> Callable[[str], bool] | None:
    """A test of metadata keys where the contract constrains them (a key pattern), else None."""
    names: Mapping[str, JSON] = rule.schema.get("propertyNames", {})
    if "pattern" not in names:
        return None
    pattern = re.compile(str(names["pattern"]))
    return lambda key: pattern.search(key) is not None


#: The longest key drawn where neither the contract nor a key pattern bounds the length.
_KEY_SIZE = 24


def _metadata_keys(rule: FieldRule) -> TextKind:
    """Keys the contract allows: any text (empty, padded, odd) unless it constrains key names."""
    names: Mapping[str, JSON] = rule.schema.get("propertyNames", {})
    if "pattern" not in names:
        # Bounded texts include the empty key, whitespace-padded keys and keys of any plane.
        return text_kind(CHARACTERS, _KEY_SIZE)
    pattern = str(names["pattern"])
    kind = repeated_class_kind(pattern, unbounded_size=_KEY_SIZE)
    if kind is None:
        # from_regex builds keys that match in full, which is all that jsonschema's re.search asks.
        return TextKind(plain=st.from_regex(re.compile(pattern), fullmatch=True), forms=1)
    return kind


def _capped(kind: TextKind, max_size: int) -> TextKind:
    """``kind`` at most ``max_size`` characters long, where drawing rather than a pattern sets its length."""
    if kind.forms == 1 or kind.max_size <= max_size:
        return kind
    return text_kind(kind.alphabet, max_size, min(kind.min_size, max_size), kind.padding)


def _pair(
    draw: st.DrawFn, forms: st.SearchStrategy[int], keys: TextKind, values: TextKind
) -> tuple[str, str]:
    """A key and a value, both shaped by one drawn number (its low digits the key's)."""
    # One number instead of one each: a choice and a span fewer per pair, and as the number's digits are
    # independent, every combination of a key's and a value's shapes still occurs.
    form = draw(forms)
    key = keys.shaped(form % keys.forms, draw(keys.plain))
    return key, values.shaped(form // keys.forms, draw(values.plain))


def _pair_forms(keys: TextKind, values: TextKind) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=keys.forms * values.forms - 1)


@st.composite
def _string_maps(
    draw: st.DrawFn,
    counts: st.SearchStrategy[int],
    forms: st.SearchStrategy[int],
    keys: TextKind,
    values: TextKind,
) -> dict[str, str]:
    """Maps of a drawn number of pairs (fewer when a key repeats); shrinks towards ``{}``."""
    return dict(_pair(draw, forms, keys, values) for _ in range(draw(counts)))


@st.composite
def _numbered_maps(
    draw: st.DrawFn,
    counts: st.SearchStrategy[int],
    forms: st.SearchStrategy[int],
    keys: TextKind,
    values: TextKind,
) -> dict[str, str]:
    """One drawn pair repeated under a drawn number of numbered keys (``key0``, ``key1``...)."""
    key, value = _pair(draw, forms, keys, values)
    return {f"{key}{i}": value for i in range(draw(counts))}


def _small_maps(keys: TextKind, values: TextKind, max_size: int) -> st.SearchStrategy[dict[str, str]]:
    counts = st.integers(min_value=0, max_value=max_size)
    return _string_maps(counts, _pair_forms(keys, values), keys, values)


def metadata_maps(contract: Contract, *, max_size: int = SMALL_MAP) -> st.SearchStrategy[dict[str, str]]:
    """String-to-string maps with empty and odd keys: up to ``SMALL_MAP`` pairs, and, when ``max_size`` is
    larger, maps of ``max_size // 2`` to ``max_size`` pairs; shrinks towards ``{}``."""
    if max_size < 1:
        raise InvalidArgument(f"max_size must be at least 1, got {max_size}")
    rule = _rule(contract, "metadata")
    keys, values = _metadata_keys(rule), _metadata_values(rule)
    small = _small_maps(keys, values, min(SMALL_MAP, max_size))
    if max_size <= SMALL_MAP:
        return small
    # Large maps repeat one short drawn pair under numbered keys: drawing every pair would be slow. The
    # drawn key is short too, so that the number appended rarely takes it past a key pattern's length.
    keys, values = _capped(keys, LARGE_MAP_VALUE), _capped(values, LARGE_MAP_VALUE)
    counts = st.integers(min_value=max(SMALL_MAP + 1, max_size // 2), max_value=max_size)
    large = _numbered_maps(counts, _pair_forms(keys, values), keys, values)
    check = _key_check(rule)
    if check is not None:
        large = large.filter(lambda m: all(check(k) for k in m))
    return small | large


@st.composite
def _maps_with_bad_entry(
    draw: st.DrawFn,
    maps: st.SearchStrategy[dict[str, str]],
    bad_pairs: st.SearchStrategy[tuple[str, JSON]],
) -> dict[str, JSON]:
    """A small map of valid pairs plus one pair the contract refuses."""
    found: dict[str, JSON] = dict(draw(maps))
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
        bad_values |= overlong_texts(int(limit))
    bad_pairs: st.SearchStrategy[tuple[str, JSON]] = st.tuples(shaped_texts(keys), bad_values)
    check = _key_check(rule)
    if check is not None:
        # Short arbitrary keys all but never match a key pattern: a cheap, rarely failing test.
        bad_pairs |= st.tuples(st.text(max_size=8).filter(lambda k: not check(k)), shaped_texts(values))
    maps = _maps_with_bad_entry(_small_maps(keys, values, 3), bad_pairs)
    return values_of_other_types(rule.types) | maps
