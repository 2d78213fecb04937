from __future__ import annotations

import copy
import unicodedata

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.contract import Contract, contract_from_document, load_contract
from conformance.core.errors import SpecError
from conformance.rules import strategies
from tests.strategies.conftest import never, with_key_pattern, with_limit

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _limit(contract: Contract, field: str) -> int:
    value = contract.field(field).max_length
    assert value is not None
    return value


def _valid(contract: Contract, field: str, value: object) -> bool:
    return jsonschema.Draft202012Validator(dict(contract.field(field).schema)).is_valid(value)


def test_names_reach_the_limit_exactly(contract: Contract) -> None:
    limit = _limit(contract, "name")
    assert (
        len(find(strategies.snapshot_names(contract), lambda v: v is not None and len(v) == limit)) == limit
    )


def test_names_can_be_empty_padded_and_beyond_the_bmp(contract: Contract) -> None:
    names = strategies.snapshot_names(contract)
    assert find(names, lambda v: v == "") == ""
    find(names, lambda v: v is not None and v != v.strip() and v.strip() != "")
    find(names, lambda v: v is not None and any(ord(c) > 0xFFFF for c in v))


@FAST
@given(data=st.data())
def test_names_never_exceed_the_limit_nor_use_a_reserved_prefix(
    contract: Contract, data: st.DataObject
) -> None:
    name = data.draw(strategies.snapshot_names(contract))
    prefixes = tuple(contract.field("name").schema.get("x-reserved-prefixes", ()))
    assert isinstance(name, str)
    assert _valid(contract, "name", name)
    assert not name.strip().startswith(prefixes)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in name)


@FAST
@given(data=st.data())
def test_overlong_values_are_always_over_the_limit(contract: Contract, data: st.DataObject) -> None:
    assert len(data.draw(strategies.overlong_names(contract))) > _limit(contract, "name")
    assert len(data.draw(strategies.overlong_descriptions(contract))) > _limit(contract, "description")


def test_overlong_names_shrink_to_limit_plus_one(contract: Contract) -> None:
    assert len(find(strategies.overlong_names(contract), lambda v: True)) == _limit(contract, "name") + 1


def test_changing_the_documented_limit_changes_what_is_generated(contract: Contract) -> None:
    smaller = with_limit(contract, "name", 5)
    assert len(find(strategies.overlong_names(smaller), lambda v: True)) == 6
    never(strategies.snapshot_names(smaller), lambda v: v is not None and len(v) > 5)
    bigger = with_limit(contract, "description", 300)
    assert len(find(strategies.descriptions(bigger), lambda v: v is not None and len(v) == 300)) == 300


def test_a_contract_without_a_limit_cannot_build_overlong_strategies(contract: Contract) -> None:
    document = dict(contract.document)

    document = copy.deepcopy(document)
    del document["components"]["schemas"][contract.semantics["snapshot-object"]]["properties"]["name"][
        "maxLength"
    ]

    with pytest.raises(SpecError, match="no maximum length"):
        strategies.overlong_names(contract_from_document(document))


def test_descriptions_may_be_null_only_when_asked_and_allowed(contract: Contract) -> None:
    assert find(strategies.descriptions(contract, include_null=True), lambda v: v is None) is None
    never(strategies.descriptions(contract), lambda v: v is None)


@FAST
@given(data=st.data())
def test_forces_are_always_accepted_and_non_boolean_forces_never(
    contract: Contract, data: st.DataObject
) -> None:
    assert _valid(contract, "force", data.draw(strategies.forces(contract)))
    bad = data.draw(strategies.non_boolean_forces(contract))
    assert bad is not None
    assert not _valid(contract, "force", bad)


def test_boolean_like_strings_only_where_the_contract_takes_them(contract: Contract) -> None:
    forces = strategies.forces(contract)
    strings = contract.field("force").boolean_like_strings
    if not strings:
        never(forces, lambda v: isinstance(v, str))
    else:
        never(forces, lambda v: isinstance(v, str) and v not in strings)
        find(forces, lambda v: isinstance(v, str) and strings[v])
        find(forces, lambda v: isinstance(v, str) and not strings[v])
    find(strategies.non_boolean_forces(contract), lambda v: isinstance(v, str))
    find(strategies.non_boolean_forces(contract), lambda v: isinstance(v, int) and not isinstance(v, bool))


@FAST
@given(data=st.data())
def test_metadata_maps_are_valid_and_invalid_metadata_never(contract: Contract, data: st.DataObject) -> None:
    assert _valid(contract, "metadata", data.draw(strategies.metadata_maps(contract)))
    bad = data.draw(strategies.invalid_metadata(contract))
    assert bad is not None
    assert not _valid(contract, "metadata", bad)


def test_metadata_maps_can_be_empty_large_and_have_odd_keys(contract: Contract) -> None:
    maps = strategies.metadata_maps(contract, max_size=40)
    assert find(maps, lambda m: not m) == {}
    assert len(find(maps, lambda m: len(m) >= 20)) >= 20
    if "propertyNames" not in contract.field("metadata").schema:
        find(maps, lambda m: "" in m)
        find(maps, lambda m: any(k != k.strip() for k in m))


def test_invalid_metadata_includes_non_objects_and_non_string_values(contract: Contract) -> None:
    bad = strategies.invalid_metadata(contract)
    find(bad, lambda v: isinstance(v, list))
    find(bad, lambda v: isinstance(v, dict) and any(not isinstance(x, str) for x in v.values()))


def test_bounded_texts_checks_its_options() -> None:
    with pytest.raises(InvalidArgument):
        strategies.bounded_texts(max_size=2, min_size=3)
    with pytest.raises(InvalidArgument):
        strategies.metadata_maps(load_contract("huawei"), max_size=0)


def test_descriptions_hold_only_printable_characters_where_the_contract_says_so(contract: Contract) -> None:
    rule = contract.field("description")
    texts = strategies.descriptions(contract)
    if rule.printable_only:
        never(texts, lambda v: v is not None and rule.unprintable(v) != "")
        find(texts, lambda v: v is not None and v != v.strip())
    else:
        find(texts, lambda v: v is not None and any(ord(c) > 0xFFFF for c in v))


@FAST
@given(data=st.data())
def test_printable_descriptions_stay_in_the_bmp_and_out_of_control_and_separator_characters(
    data: st.DataObject,
) -> None:
    cinder = load_contract("cinder")
    value = data.draw(strategies.descriptions(cinder))
    assert isinstance(value, str)
    assert _valid(cinder, "description", value)
    for char in value:
        category = unicodedata.category(char)
        assert ord(char) <= 0xFFFE
        assert not category.startswith("C")
        assert category in ("Zs",) or not category.startswith("Z")


def test_metadata_maps_are_small_unless_large_ones_are_asked_for(contract: Contract) -> None:
    never(strategies.metadata_maps(contract), lambda m: len(m) > strategies.fields.SMALL_MAP)
    large = find(strategies.metadata_maps(contract, max_size=200), lambda m: len(m) >= 100)
    # A failing case with a large map must print in a few kilobytes (Hypothesis warns past 30 kB).
    assert len(repr(large)) < 30_000


@FAST
@given(data=st.data())
def test_values_of_other_types_are_never_of_the_given_types(data: st.DataObject) -> None:
    value = data.draw(strategies.values_of_other_types(("string", "object")))
    assert value is not None
    assert not isinstance(value, str | dict)
    number = data.draw(strategies.values_of_other_types(("integer", "boolean", "string", "array", "object")))
    assert isinstance(number, float)
    assert not number.is_integer()


def test_values_of_other_types_need_a_type_left_over() -> None:
    every = ("boolean", "integer", "number", "string", "array", "object")
    with pytest.raises(InvalidArgument):
        strategies.values_of_other_types(every)


@given(st.data())
def test_characters_are_every_scalar_value_and_never_a_surrogate(data: st.DataObject) -> None:
    char = data.draw(strategies.texts.CHARACTERS)
    assert unicodedata.category(char) != "Cs"
    char.encode("utf-8")


def test_characters_reach_beyond_the_bmp() -> None:
    assert ord(find(strategies.texts.CHARACTERS, lambda c: ord(c) > 0xFFFF)) > 0xFFFF


def test_overlong_values_also_run_many_distinct_characters(contract: Contract) -> None:
    limit = _limit(contract, "name")
    # Found, not shrunk: shrinking a long text character by character is slow and shows nothing more.
    unshrunk = settings(phases=[Phase.generate], database=None)
    value = find(strategies.overlong_names(contract), lambda v: len(set(v)) > limit // 2, settings=unshrunk)
    assert len(value) > limit


def test_forces_shrink_to_false_and_take_both_booleans(contract: Contract) -> None:
    forces = strategies.forces(contract)
    assert find(forces, lambda v: True) is False
    assert find(forces, lambda v: v is True) is True


def test_names_may_be_null_only_when_asked_and_allowed(contract: Contract) -> None:
    names = strategies.snapshot_names(contract, include_null=True)
    if contract.field("name").nullable:
        assert find(names, lambda v: v is None) is None
        find(names, lambda v: isinstance(v, str) and v != v.strip())
    else:
        never(names, lambda v: v is None)


def _bounds(contract: Contract) -> tuple[int, int]:
    rule = contract.field("metadata")
    return strategies.fields._metadata_keys(rule).max_size, strategies.fields._metadata_values(rule).max_size


@pytest.mark.parametrize("key_shape", ["padded", "at the upper bound"])
@pytest.mark.parametrize("value_shape", ["padded", "at the upper bound"])
def test_a_pairs_key_and_value_take_their_shapes_independently(
    contract: Contract, key_shape: str, value_shape: str
) -> None:
    key_limit, value_limit = _bounds(contract)

    def shaped(text: str, shape: str, limit: int) -> bool:
        if shape == "padded":
            return text != text.strip() and text.strip() != ""
        return len(text) == limit

    find(
        strategies.metadata_maps(contract),
        lambda m: any(
            shaped(k, key_shape, key_limit) and shaped(v, value_shape, value_limit) for k, v in m.items()
        ),
    )


@pytest.mark.parametrize(
    "pattern",
    [r"^[a-z]+$", r"^[A-Z0-9_.]{2,5}$", r"[abc]{3}", r"^x-[a-z]{1,8}$"],
)
def test_metadata_keys_follow_any_key_pattern(pattern: str) -> None:
    contract = with_key_pattern(load_contract("cinder"), pattern)
    for maps in (strategies.metadata_maps(contract), strategies.metadata_maps(contract, max_size=40)):
        never(maps, lambda m: not _valid(contract, "metadata", m))
        find(maps, lambda m: len(m) >= 2)
    never(strategies.invalid_metadata(contract), lambda m: _valid(contract, "metadata", m))


def test_keys_of_a_class_pattern_reach_both_bounds_and_take_the_padding_it_allows() -> None:
    contract = with_key_pattern(load_contract("cinder"), r"^[a-z .]{2,30}$")
    maps = strategies.metadata_maps(contract)
    assert len(find(maps, lambda m: any(len(k) == 2 for k in m))) >= 1
    find(maps, lambda m: any(len(k) == 30 for k in m))
    find(maps, lambda m: any(k != k.strip() for k in m))


def test_large_maps_keep_to_the_key_pattern(contract: Contract) -> None:
    never(strategies.metadata_maps(contract, max_size=40), lambda m: not _valid(contract, "metadata", m))
