"""Strategies for the optional fields of a snapshot: names, descriptions, forces and metadata, valid and not.

Every limit and type is read from the contract; valid strategies never produce a reserved name prefix.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import jsonschema
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.contract import JSON, Contract, FieldRule
from conformance.errors import SpecError

#: Any Unicode scalar value: every plane, no surrogates (UTF-8 JSON cannot carry a lone one).
CHARACTERS = st.characters(codec="utf-8")
WHITESPACE = st.sampled_from(" \t\n\r\u00a0\u3000")
#: How far past a limit the overlong strategies go (they shrink towards exactly one character over).
OVERSHOOT = 64


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
    return jsonschema.Draft202012Validator(dict(contract.field(name).schema))


def _reserved(rule: FieldRule) -> tuple[str, ...]:
    return tuple(str(p) for p in rule.schema.get("x-reserved-prefixes", ()))


def _not_reserved(rule: FieldRule, value: str) -> bool:
    prefixes = _reserved(rule)
    return not (value.startswith(prefixes) or value.lstrip().startswith(prefixes)) if prefixes else True


@st.composite
def _padded(draw: st.DrawFn, max_size: int) -> str:
    """Text with whitespace at one or both ends, no longer than ``max_size`` characters."""
    lead = draw(st.text(WHITESPACE, max_size=min(3, max_size)))
    trail = draw(st.text(WHITESPACE, max_size=min(3, max_size - len(lead))))
    core = draw(st.text(CHARACTERS, max_size=max_size - len(lead) - len(trail)))
    return lead + core + trail


def bounded_texts(*, max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Unicode text of ``min_size..max_size`` characters: short, whitespace-padded, or exactly at a bound."""
    if not 0 <= min_size <= max_size:
        raise InvalidArgument(f"need 0 <= min_size <= max_size, got {min_size}, {max_size}")
    parts = [
        st.text(CHARACTERS, min_size=min_size, max_size=max_size),
        st.text(CHARACTERS, min_size=max_size, max_size=max_size),
        st.text(CHARACTERS, min_size=min_size, max_size=min_size),
    ]
    if min_size == 0:
        parts.append(_padded(max_size))
    return st.one_of(parts)


def _valid_strings(contract: Contract, name: str, *, include_null: bool) -> st.SearchStrategy[str | None]:
    rule = _rule(contract, name)
    validator = _validator(contract, name)
    # The validator keeps the strings honest to any further constraint the contract states (a pattern).
    texts = bounded_texts(max_size=_limit(rule)).filter(
        lambda v: _not_reserved(rule, v) and validator.is_valid(v)
    )
    if include_null and rule.nullable:
        return st.none() | texts
    return texts


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
    """Descriptions the contract accepts (0..limit characters); ``include_null`` adds ``None`` if allowed."""
    return _valid_strings(contract, "description", include_null=include_null)


def overlong_descriptions(contract: Contract) -> st.SearchStrategy[str]:
    """Descriptions over the limit; shrinks towards exactly limit + 1 characters."""
    return _overlong(contract, "description")


def _nested_values(max_leaves: int) -> st.SearchStrategy[JSON]:
    scalars = st.none() | _scalars()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=max_leaves,
    )


def _scalars() -> st.SearchStrategy[JSON]:
    return st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()


def non_object_values(*, max_leaves: int = 6) -> st.SearchStrategy[JSON]:
    """JSON values that are neither ``null`` nor an object: scalars and small arrays."""
    return _scalars() | st.lists(_nested_values(max_leaves), max_size=3)


def json_values(*, max_leaves: int = 6) -> st.SearchStrategy[JSON]:
    """Any JSON value except ``null``: scalars, arrays and objects (small); shrinks towards ``False``."""
    objects = st.dictionaries(st.text(max_size=8), _nested_values(max_leaves), max_size=3)
    return non_object_values(max_leaves=max_leaves) | objects


def _rejected_by(contract: Contract, name: str) -> st.SearchStrategy[JSON]:
    validator = _validator(contract, name)
    return json_values().filter(lambda v: not validator.is_valid(v))


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
    _rule(contract, "force")
    return _rejected_by(contract, "force")


def _metadata_values(rule: FieldRule) -> st.SearchStrategy[str]:
    schema: Mapping[str, JSON] = rule.value_schema or {}
    if schema.get("type") != "string":
        raise SpecError(f"the contract's metadata values are not strings ({rule.source})")
    limit = schema.get("maxLength")
    return bounded_texts(max_size=int(limit)) if limit is not None else st.text(CHARACTERS, max_size=40)


def metadata_maps(contract: Contract, *, max_size: int = 64) -> st.SearchStrategy[dict[str, str]]:
    """String-to-string maps: empty, small, or large (up to ``max_size`` pairs), with empty and odd keys."""
    if max_size < 1:
        raise InvalidArgument(f"max_size must be at least 1, got {max_size}")
    rule = _rule(contract, "metadata")
    keys = _metadata_keys(rule)
    values = _metadata_values(rule)
    validator = _validator(contract, "metadata")
    # Large maps repeat one drawn pair under numbered keys: drawing every pair would make them slow to build.
    large = st.builds(
        lambda key, value, count: {f"{key}{i}": value for i in range(count)},
        keys,
        values,
        st.integers(min_value=max(1, max_size // 2), max_value=max_size),
    )
    return st.one_of(st.dictionaries(keys, values, max_size=min(4, max_size)), large).filter(
        validator.is_valid
    )


def _metadata_keys(rule: FieldRule) -> st.SearchStrategy[str]:
    """Keys the contract allows: any text (empty, padded, odd) unless it constrains key names."""
    names: Mapping[str, JSON] = rule.schema.get("propertyNames", {})
    if "pattern" in names:
        key_validator = jsonschema.Draft202012Validator(dict(names))
        return st.from_regex(re.compile(str(names["pattern"])), fullmatch=True).filter(key_validator.is_valid)
    return st.text(CHARACTERS, max_size=24) | _padded(8) | st.just("")


@st.composite
def _maps_with_bad_value(draw: st.DrawFn, contract: Contract) -> dict[str, JSON]:
    rule = _rule(contract, "metadata")
    good: dict[str, JSON] = dict(
        draw(st.dictionaries(st.text(max_size=8), _metadata_values(rule), max_size=3))
    )
    value_validator = jsonschema.Draft202012Validator(dict(rule.value_schema or {}))
    bad = draw(json_values().filter(lambda v: not value_validator.is_valid(v)) | st.none())
    good[draw(st.text(max_size=8))] = bad
    return good


def invalid_metadata(contract: Contract) -> st.SearchStrategy[JSON]:
    """Non-null ``metadata`` the contract refuses: a non-object, or a map with a non-string value."""
    validator = _validator(contract, "metadata")
    non_objects = non_object_values().filter(lambda v: not validator.is_valid(v))
    return non_objects | _maps_with_bad_value(contract)
