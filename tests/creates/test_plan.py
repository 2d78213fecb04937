"""The planned creates: every body is valid for its profile, carries the classes the contract allows (and no
other), and the whole plan stays within six creates."""

from __future__ import annotations

import unicodedata

import pytest

from conformance.contract import PROFILES, Contract, load_contract
from conformance.rules.creates.classes import Carried, Part, accepts, carried_metadata, carried_text, compose
from conformance.rules.creates.plan import plan
from conformance.rules.oracle import Volumes, expect

DISK, BUSY = "disk-a", "disk-busy"
VOLUMES = Volumes(available_id=DISK, in_use_id=BUSY, busy_status="in-use", unknown_id="none", sizes={DISK: 1})


@pytest.fixture(scope="module", params=PROFILES)
def contract(request: pytest.FixtureRequest) -> Contract:
    return load_contract(request.param)


def _disk(role: str) -> str:
    return BUSY if role == "in-use" else DISK


def test_the_plan_makes_at_most_six_snapshots_on_a_conformant_target(contract: Contract) -> None:
    assert len(plan(contract, in_use=True)) <= 6
    assert len(plan(contract, in_use=False)) <= 6


def test_every_planned_body_is_one_the_contract_accepts(contract: Contract) -> None:
    for planned in plan(contract, in_use=True):
        body = planned.body(contract, _disk(planned.disk))
        expected = expect(contract, body, VOLUMES, focus=planned.focus)
        # The reserved prefix is valid by the schema too; the suite records, never judges, what it gets.
        assert expected.outcome == "accept", (planned.key, expected)
        # Split bodies too: each field alone, and each class of a field alone.
        for item in planned.carried:
            for parts in [item.parts, *[(part,) for part in item.parts]]:
                narrowed = planned.body(contract, _disk(planned.disk), (item.narrowed(parts),))
                assert expect(contract, narrowed, VOLUMES).outcome != "refuse", (planned.key, parts)


def test_the_combined_texts_sit_at_their_bound_with_whitespace_at_both_ends(contract: Contract) -> None:
    for field in ("name", "description"):
        carried, _ = carried_text(contract, field)
        value = carried.value()
        assert len(value) == contract.field(field).max_length
        assert value != value.strip()
        assert len(value.encode("utf-8")) > len(value), "the fill is in multi-byte characters"


def test_the_huawei_name_carries_every_general_category_and_the_other_classes() -> None:
    carried, wholes = carried_text(load_contract("huawei"), "name")
    categories = {unicodedata.category(c) for c in carried.value()}
    everything = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe"}
    everything |= {"Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cn"}
    assert everything <= categories
    labels = " ".join(part.label for part in carried.parts)
    for wanted in ("beyond the BMP", "combining sequences", "right-to-left text", "the 64-character bound"):
        assert wanted in labels
    assert [part.label.split(" (")[0] for part in wholes] == ["empty", "whitespace only"]


def test_cinders_description_carries_only_what_its_printable_rule_allows() -> None:
    contract = load_contract("cinder")
    rule = contract.field("description")
    carried, wholes = carried_text(contract, "description")
    assert rule.unprintable(carried.value()) == ""
    assert all(ord(c) <= 0xFFFF for c in carried.value())
    assert not any(part.label.startswith(("beyond the BMP", "other characters")) for part in carried.parts)
    assert "null" in [part.label for part in wholes]
    assert all(rule.unprintable(str(part.value or "")) == "" for part in wholes)


def test_cinders_metadata_keys_keep_to_its_key_pattern_and_values_carry_the_rest() -> None:
    contract = load_contract("cinder")
    carried, wholes = carried_metadata(contract)
    keys = [part.key for part in carried.parts if part.label.startswith("key:")]
    assert keys
    assert all(k and all(c.isascii() for c in k) for k in keys)
    values = [part.text for part in carried.parts if part.label.startswith("value:")]
    assert any(ord(c) > 0xFFFF for value in values for c in value)
    assert [part.label for part in wholes] == ["empty map", "null"]
    assert accepts(contract, "metadata", carried.value())


def test_the_huawei_metadata_carries_the_classes_in_keys_too() -> None:
    carried, wholes = carried_metadata(load_contract("huawei"))
    keys = [part.key for part in carried.parts if part.label.startswith("key:")]
    assert "" in keys
    assert any(ord(c) > 0xFFFF for key in keys for c in key)
    assert [part.label for part in wholes] == ["empty map"]


def test_whole_value_classes_go_one_to_a_body() -> None:
    bodies = {p.key: p for p in plan(load_contract("cinder"), in_use=True)}
    values = {key: bodies[key].body(load_contract("cinder"), DISK)["snapshot"] for key in bodies}
    assert (values["empty"]["name"], values["empty"]["description"], values["empty"]["metadata"]) == (
        "",
        None,
        {},
    )
    assert values["whitespace"]["force"] is True
    assert values["whitespace"]["metadata"] is None
    assert values["whitespace"]["name"].strip() == "" != values["whitespace"]["name"]
    assert values["omitted"] == {"volume_id": DISK, "name": None, "description": ""}
    assert bodies["whitespace"].disk == "in-use"
    assert bodies["whitespace"].focus == "REQ-FORCE-TRUE"


def test_without_an_in_use_disk_force_true_goes_to_the_available_disk() -> None:
    bodies = {p.key: p for p in plan(load_contract("huawei"), in_use=False)}
    assert bodies["whitespace"].disk == "available"
    assert bodies["whitespace"].focus == "OP-ACCEPT"


def test_the_example_is_sent_as_the_page_gives_it(contract: Contract) -> None:
    example = next(p for p in plan(contract, in_use=True) if p.key == "example")
    sent = example.body(contract, DISK)
    given = contract.request_examples[0][contract.snapshot_key]
    assert sent[contract.snapshot_key] == {**given, "volume_id": DISK}


def test_composed_text_puts_whitespace_around_a_letter_when_alone() -> None:
    ends = Part("ends", "ends", text=" ")
    assert compose((ends,)) == " x "
    bound = Part("bound", "bound", text="é", length=5)
    assert compose((ends, bound)) == " ééé "
    assert Carried("metadata", (Part("k", "pair", text="v", key="k"),), map=True).value() == {"k": "v"}
